/**
 * Who is a member of the mesh, as this peer's store says: an agent whose genesis this peer holds (so
 * it passed the rules: on a mesh of invites, an unexpired invite from an admin), within the uses its
 * invite grants, neither revoked nor warranted. The member gate of the node (net/member-gate.ts) asks
 * this before any protocol that serves work or bytes starts; a newcomer's genesis is awaited a while,
 * since it reaches this peer by replication just after the newcomer connects.
 */
import type { PeerId } from '@libp2p/interface'
import { decodeHashB64 } from '../../../identity/hash.ts'
import { agentOfPeerB64 } from '../../../identity/peer-agent.ts'
import type { AdmissionCheck } from '../../../net/member-gate.ts'
import type { EmbeddedConductor } from '../conductor.ts'
import { inviteIdOf, inviteUsesOf, usesBefore } from '../validation/membrane-proof.ts'
import { storeRecords } from '../validation/record-rules.ts'
import type { Replication } from './replicator.ts'

/** Null for a member; otherwise why not, and whether waiting could change it (a genesis on its way). */
export type Membership = null | { why: string; final: boolean }

/** How often a check waiting for a newcomer's genesis looks again when no op arrives meanwhile. */
const RECHECK_MS = 500

export function membershipOf(
  conductor: EmbeddedConductor,
  replication: Pick<Replication, 'isWarranted' | 'isRevoked'>,
  agent: string,
): Membership {
  if (agent === conductor.agentPubKey) return null
  if (replication.isRevoked(agent)) return { why: 'it was revoked by an admin', final: true }
  if (replication.isWarranted(agent)) return { why: 'it is warranted here for an invalid op', final: true }
  const records = storeRecords(conductor.store, conductor.cell('agent_registry').dnaHash)
  const proof = records.genesisProof(decodeHashB64(agent, 'agent'))
  if (proof === undefined) return { why: 'no genesis of its has reached this peer', final: false }
  const overused = overusedInvite(records, proof, agent)
  return overused === null ? null : { why: `it joined with ${overused}`, final: true }
}

/**
 * Why the mesh refuses this very peer, as its own store shows; null when nothing is known against it.
 * Its own genesis passed its rules when it was written, before it could know that other machines
 * had used its invite first: every other peer refuses it then, and only its store can tell it so.
 */
export function ownStanding(
  conductor: EmbeddedConductor,
  replication: Pick<Replication, 'isRevoked'>,
): string | null {
  const me = conductor.agentPubKey
  if (replication.isRevoked(me)) return 'an admin of the mesh revoked this peer'
  const records = storeRecords(conductor.store, conductor.cell('agent_registry').dnaHash)
  const proof = records.genesisProof(decodeHashB64(me, 'agent'))
  const overused = proof === undefined ? null : overusedInvite(records, proof, me)
  return overused === null
    ? null
    : `this peer joined with ${overused}: every other peer refuses it (ask the mesh's admin for a new invite, and join with a fresh --data-dir)`
}

/** The invite `agent`'s genesis cites, when others used up what it admits before `agent` did; else null. */
function overusedInvite(
  records: ReturnType<typeof storeRecords>,
  proof: Parameters<typeof inviteIdOf>[0],
  agent: string,
): string | null {
  const invite = inviteIdOf(proof)
  if (invite === null) return null
  const uses = records.inviteUses(invite)
  const own = uses.find((u) => u.agent === agent)
  const allowed = inviteUsesOf(proof)
  if (own === undefined || usesBefore(uses, agent, own.at) < allowed) return null
  return `invite ${invite}, which admits ${allowed} and was used first by others`
}

/** The agents whose geneses held here cite invite `inviteId` (what a witness counts its uses by). */
export function heldRedemptions(conductor: EmbeddedConductor, inviteId: string): string[] {
  const records = storeRecords(conductor.store, conductor.cell('agent_registry').dnaHash)
  return records.inviteUses(inviteId).map((use) => use.agent)
}

/** The member gate's check over this peer's store, awaiting a newcomer's genesis until `signal` ends. */
export function admissionCheck(conductor: EmbeddedConductor, replication: Replication): AdmissionCheck {
  return async (peer: PeerId, signal: AbortSignal) => {
    const agent = agentOfPeerB64(peer)
    if (agent === null) return 'its key is not an agent key'
    for (;;) {
      const membership = membershipOf(conductor, replication, agent)
      if (membership === null) return null
      if (membership.final || signal.aborted) return membership.why
      await opsStoredOrTimeout(replication, signal)
    }
  }
}

function opsStoredOrTimeout(replication: Replication, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      stop()
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, RECHECK_MS)
    const stop = replication.onOpsStored(done)
    signal.addEventListener('abort', done, { once: true })
  })
}
