/**
 * Who the libp2p node beside a Holochain conductor serves: an agent whose capability the conductor's
 * agent_registry answers (its genesis passed the membrane), unless a revocation names it; a newcomer's
 * capability is awaited until the gate's wait ends. Over a stand-in conductor port.
 */
import { describe, expect, it } from 'vitest'
import { encodeHashB64, holoHashFrom32 } from '../../../host/identity/hash.ts'
import { peerIdOfAgent } from '../../../host/identity/peer-agent.ts'
import { conductorAdmissionCheck, conductorMembershipOf } from '../../../host/membership/conductor-members.ts'
import { ConductorRevocations } from '../../../host/membership/conductor-revocations.ts'

const agent = (n: number) => encodeHashB64(holoHashFrom32(new Uint8Array(32).fill(n), 'agent'))
const SELF = agent(1)
const MEMBER = agent(2)
const REVOKED = agent(3)
const NEWCOMER = agent(4)

/** A conductor holding capabilities of `advertised` and a revocation of REVOKED; counts its reads. */
function conductorWith(advertised: Set<string>) {
  const reads = { count: 0 }
  const conductor = {
    agentPubKey: SELF,
    callZome: async (_dna: string, fn: string, payload: unknown) => {
      reads.count += 1
      if (fn === 'list_revocations')
        return [{ entry: { agent: REVOKED, invite_id: null, reason: 'gone' } }] as never
      if (fn === 'get_capability') return (advertised.has(payload as string) ? { entry: {} } : null) as never
      throw new Error(`unexpected ${fn}`)
    },
  }
  const revocations = new ConductorRevocations({
    conductor: conductor as Parameters<typeof conductorMembershipOf>[0],
    onRevoked: () => {},
    logger: { info: () => {}, debug: () => {} },
  })
  return { conductor: conductor as Parameters<typeof conductorMembershipOf>[0], revocations, reads }
}

describe('membership as the conductor answers it', () => {
  it.each([
    ['itself', SELF, null],
    ['an agent with a capability on record', MEMBER, null],
    ['a revoked agent, whatever it advertised', REVOKED, { why: 'it was revoked by an admin', final: true }],
    [
      'an agent with no capability yet',
      NEWCOMER,
      { why: "no capability of its has reached this peer's conductor", final: false },
    ],
  ])('%s', async (_name, who, expected) => {
    const { conductor, revocations } = conductorWith(new Set([MEMBER, REVOKED]))
    expect(await conductorMembershipOf(conductor, revocations, who)).toEqual(expected)
  })

  it("awaits a newcomer's capability until it arrives", async () => {
    const advertised = new Set<string>()
    const { conductor, revocations } = conductorWith(advertised)
    const check = conductorAdmissionCheck(conductor, revocations, 10)
    setTimeout(() => advertised.add(NEWCOMER), 35)
    expect(await check(peerIdOfAgent(NEWCOMER), AbortSignal.timeout(5_000))).toBeNull()
  })

  it('refuses a newcomer whose capability has not come when the wait ends, and a revoked one at once', async () => {
    const { conductor, revocations, reads } = conductorWith(new Set([REVOKED]))
    const check = conductorAdmissionCheck(conductor, revocations, 10)
    expect(await check(peerIdOfAgent(NEWCOMER), AbortSignal.timeout(60))).toBe(
      "no capability of its has reached this peer's conductor",
    )
    reads.count = 0
    expect(await check(peerIdOfAgent(REVOKED), AbortSignal.timeout(5_000))).toBe('it was revoked by an admin')
    expect(reads.count).toBe(1)
  })
})
