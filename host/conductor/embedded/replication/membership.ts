/**
 * Who is a member of the mesh, as this peer's store says: an agent whose genesis this peer holds (so
 * it passed the rules: on a mesh of invites, an unexpired invite from an admin), within the uses its
 * invite grants, neither revoked nor warranted. The member gate of the node (net/member-gate.ts) asks
 * this before any protocol that serves work or bytes starts; a newcomer's genesis is awaited a while,
 * since it reaches this peer by replication just after the newcomer connects.
 */
import type { PeerId } from '@libp2p/interface'
import { decodeHashB64, encodeHashB64 } from '../../../identity/hash.ts'
import { agentOfPeerB64 } from '../../../identity/peer-agent.ts'
import type { AdmissionCheck } from '../../../net/member-gate.ts'
import type { EmbeddedConductor } from '../conductor.ts'
import { sealedUseKey } from '../validation/agent-standing.ts'
import { inviteIdOf, inviteUsesOf, usesBefore, witnessOf } from '../validation/membrane-proof.ts'
import { storeRecords } from '../validation/record-rules.ts'
import type { Replication } from './replication-port.ts'

/** Null for a member; otherwise why not, and whether waiting could change it (a genesis on its way). */
export type Membership = null | { why: string; final: boolean }

/** How often a check waiting for a newcomer's genesis looks again when no op arrives meanwhile. */
const RECHECK_MS = 500

/** How far back a chain of admissions (who witnessed whom) is followed: forged loops end here. */
const ADMITTED_BY_DEPTH = 8

type Standing = Pick<Replication, 'isWarranted' | 'isRevoked' | 'legacySealed'>

export function membershipOf(
  conductor: EmbeddedConductor,
  replication: Standing,
  agent: string,
  depth = 0,
): Membership {
  if (agent === conductor.agentPubKey) return null
  if (replication.isRevoked(agent)) return { why: 'it was revoked by an admin', final: true }
  if (replication.isWarranted(agent)) return { why: 'it is warranted here for an invalid op', final: true }
  const records = storeRecords(conductor.store, conductor.cell('agent_registry').dnaHash)
  const proof = records.genesisProof(decodeHashB64(agent, 'agent'))
  if (proof === undefined) return { why: 'no genesis of its has reached this peer', final: false }
  const admittedBy = barredAdmission(replication, proof, agent)
  if (admittedBy !== null) return { why: admittedBy, final: true }
  // The member that witnessed it must be one still: the admitted-by link passes the same gate.
  const witness = witnessOf(proof)
  if (witness !== null && witness !== agent && depth < ADMITTED_BY_DEPTH) {
    const its = membershipOf(conductor, replication, witness, depth + 1)
    if (its?.final)
      return { why: `it was admitted by ${witness}, which is not a member: ${its.why}`, final: true }
  }
  const overused = overusedInvite(records, proof, agent, replication.legacySealed())
  return overused === null ? null : { why: `it joined with ${overused}`, final: true }
}

/**
 * Why the admission `agent`'s genesis carries no longer counts, or null: the member that witnessed it
 * was revoked or warranted since (its statements carry any time it chose), or it rests on a 0.1.0
 * grant the admins' seal does not list. The same gate as the rules', checked again as these arrive.
 */
function barredAdmission(replication: Standing, proof: unknown, agent: string): string | null {
  const witness = witnessOf(proof)
  if (
    witness !== null &&
    witness !== agent &&
    (replication.isRevoked(witness) || replication.isWarranted(witness))
  )
    return `it was admitted by ${witness}, whom the mesh revoked or warranted since (ask the mesh's admin for a new invite)`
  const invite = inviteIdOf(proof)
  const sealed = replication.legacySealed()
  if (witness === null && invite !== null && sealed !== null && !sealed.has(sealedUseKey(invite, agent)))
    return `it joined with invite ${invite} of the 0.1.0 form, which the admins sealed without it`
  return null
}

/**
 * Why the mesh refuses this very peer, as its own store shows; null when nothing is known against it.
 * Its own genesis passed its rules when it was written, before it could know that other machines
 * had used its invite first: every other peer refuses it then, and only its store can tell it so.
 */
export function ownStanding(conductor: EmbeddedConductor, replication: Standing): string | null {
  const me = conductor.agentPubKey
  if (replication.isRevoked(me)) return 'an admin of the mesh revoked this peer'
  const records = storeRecords(conductor.store, conductor.cell('agent_registry').dnaHash)
  const proof = records.genesisProof(decodeHashB64(me, 'agent'))
  if (proof === undefined) return null
  const barred = barredAdmission(replication, proof, me)
  if (barred !== null) return barred.replace(/^it /, 'this peer ')
  const overused = overusedInvite(records, proof, me, replication.legacySealed())
  return overused === null
    ? null
    : `this peer joined with ${overused}: every other peer refuses it (ask the mesh's admin for a new invite, and join with a fresh --data-dir)`
}

/** The invite `agent`'s genesis cites, when others used up what it admits before `agent` did; else null. */
function overusedInvite(
  records: ReturnType<typeof storeRecords>,
  proof: Parameters<typeof inviteIdOf>[0],
  agent: string,
  sealed: ReadonlySet<string> | null,
): string | null {
  const invite = inviteIdOf(proof)
  if (invite === null) return null
  // A sealed legacy use is the admins' record of who had joined with it, first or not.
  if (witnessOf(proof) === null && sealed?.has(sealedUseKey(invite, agent))) return null
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

/**
 * The uses of 0.1.0 grants (no witness, not marked witnessed) by agents this peer counts as members
 * now: what an admin seals once every member reads witnessed grants (membership/legacy-sealer.ts).
 */
export function legacyUses(
  conductor: EmbeddedConductor,
  replication: Standing,
): { invite_id: string; agent: string }[] {
  const dnaHash = conductor.cell('agent_registry').dnaHash
  const records = storeRecords(conductor.store, dnaHash)
  const uses: { invite_id: string; agent: string }[] = []
  for (const { author } of conductor.store.chainHeads(dnaHash)) {
    const proof = records.genesisProof(author)
    const invite = inviteIdOf(proof)
    if (invite === null || witnessOf(proof) !== null || isWitnessedGrant(proof)) continue
    const agent = encodeHashB64(author)
    if (membershipOf(conductor, replication, agent) === null) uses.push({ invite_id: invite, agent })
  }
  return uses
}

const isWitnessedGrant = (proof: unknown): boolean =>
  (proof as { grant?: { witnessed?: unknown } } | null)?.grant?.witnessed === true

/** The agents this peer counts as members now, itself among them: whom holders are planned over. */
export function knownMembers(conductor: EmbeddedConductor, replication: Standing): string[] {
  const dnaHash = conductor.cell('agent_registry').dnaHash
  return conductor.store
    .chainHeads(dnaHash)
    .map((head) => encodeHashB64(head.author))
    .filter((agent) => membershipOf(conductor, replication, agent) === null)
}
