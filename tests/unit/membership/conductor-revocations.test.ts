/**
 * The revocations a Holochain conductor holds, as the holochain backend keeps them: read at start and
 * again, each agent newly found revoked handed on once (the node denies it), never this peer itself;
 * a revocation of an invite bars no one; a failed read keeps what was read. Over a stand-in conductor.
 */
import { describe, expect, it } from 'vitest'
import { encodeHashB64, holoHashFrom32 } from '../../../host/identity/hash.ts'
import { ConductorRevocations } from '../../../host/membership/conductor-revocations.ts'
import type { Revocation } from '../../../zomes-bindings/index.ts'

const agent = (n: number) => encodeHashB64(holoHashFrom32(new Uint8Array(32).fill(n), 'agent'))
const SELF = agent(1)
const GONE = agent(2)
const LATER = agent(3)

function revocationsOver(held: Pick<Revocation, 'agent' | 'invite_id'>[], refreshMs = 10_000) {
  const state = { failing: false }
  const denied: string[] = []
  const revocations = new ConductorRevocations({
    conductor: {
      agentPubKey: SELF,
      callZome: (async (_dna: string, fn: string) => {
        if (fn !== 'list_revocations') throw new Error(`unexpected ${fn}`)
        if (state.failing) throw new Error('conductor busy')
        return held.map((r) => ({ entry: { ...r, reason: '' } }))
      }) as never,
    },
    onRevoked: (a) => denied.push(a),
    logger: { info: () => {}, debug: () => {} },
    refreshMs,
  })
  return { revocations, denied, state }
}

describe('the revocations a conductor holds', () => {
  it('bars the agents named, hands each on once, and not this peer itself; an invite bars no one', async () => {
    const held = [
      { agent: GONE, invite_id: null },
      { agent: SELF, invite_id: null },
      { agent: null, invite_id: 'inv-1' },
    ]
    const { revocations, denied } = revocationsOver(held)
    expect(revocations.has(GONE)).toBe(false)
    await revocations.start()
    expect([GONE, SELF, LATER].map((a) => revocations.has(a))).toEqual([true, true, false])
    held.push({ agent: LATER, invite_id: null }, { agent: GONE, invite_id: null })
    expect([...(await revocations.read())].sort()).toEqual([GONE, SELF, LATER].sort())
    expect(denied).toEqual([GONE, LATER])
    revocations.stop()
  })

  it('reads again on its own, and a failed read keeps what was read', async () => {
    const held: Pick<Revocation, 'agent' | 'invite_id'>[] = []
    const { revocations, denied, state } = revocationsOver(held, 10)
    await revocations.start()
    held.push({ agent: GONE, invite_id: null })
    await expect.poll(() => revocations.has(GONE), { timeout: 2_000 }).toBe(true)
    state.failing = true
    held.length = 0
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(revocations.has(GONE)).toBe(true)
    expect(denied).toEqual([GONE])
    revocations.stop()
  })
})
