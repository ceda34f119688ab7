/**
 * Who is a member, as a Holochain conductor can tell this host: its conductor admits to the mesh's DHT
 * only agents whose genesis passed the membrane (on a mesh of invites, a witnessed invite from the
 * admin), so an agent whose capability the agent_registry zome answers is a member, unless a
 * revocation names it (read afresh at each check, ./conductor-revocations.ts). The member gate of the
 * libp2p node beside a conductor (net/member-gate.ts) asks this; a newcomer's capability arrives by
 * gossip after it connects, so it is awaited a while.
 */
import type { PeerId } from '@libp2p/interface'
import { agentOfPeerB64 } from '../identity/peer-agent.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { AdmissionCheck } from '../net/member-gate.ts'
import type { ConductorRevocations } from './conductor-revocations.ts'

/** How often a check waiting for a newcomer's capability asks the conductor again. */
const RECHECK_MS = 1_000

/** Null for a member; otherwise why not, and whether waiting could change it. */
type Membership = null | { why: string; final: boolean }

type Conductor = Pick<ConductorPort, 'agentPubKey' | 'callZome'>
type Revocations = Pick<ConductorRevocations, 'read'>

export async function conductorMembershipOf(
  conductor: Conductor,
  revocations: Revocations,
  agent: string,
): Promise<Membership> {
  if (agent === conductor.agentPubKey) return null
  if ((await revocations.read()).has(agent)) return { why: 'it was revoked by an admin', final: true }
  const capability = await conductor.callZome('agent_registry', 'get_capability', agent)
  return capability === null
    ? { why: "no capability of its has reached this peer's conductor", final: false }
    : null
}

/** The member gate's check over the conductor's reads, awaiting a newcomer's capability until `signal` ends. */
export function conductorAdmissionCheck(
  conductor: Conductor,
  revocations: Revocations,
  recheckMs = RECHECK_MS,
): AdmissionCheck {
  return async (peer: PeerId, signal: AbortSignal) => {
    const agent = agentOfPeerB64(peer)
    if (agent === null) return 'its key is not an agent key'
    for (;;) {
      const membership = await conductorMembershipOf(conductor, revocations, agent)
      if (membership === null) return null
      if (membership.final || signal.aborted) return membership.why
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, recheckMs)
        function done() {
          clearTimeout(timer)
          signal.removeEventListener('abort', done)
          resolve()
        }
        signal.addEventListener('abort', done, { once: true })
      })
    }
  }
}
