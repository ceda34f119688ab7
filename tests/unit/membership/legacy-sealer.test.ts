import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../../host/log/logger.ts'
import { LegacySealer, type LegacyUse, planLegacySeal } from '../../../host/membership/legacy-sealer.ts'

const key = (use: LegacyUse) => `${use.invite_id}\n${use.agent}`
const use = (n: number): LegacyUse => ({ invite_id: n.toString(16).padStart(32, '0'), agent: `agent-${n}` })
const uses = (count: number) => Array.from({ length: count }, (_, i) => use(i))

describe('planLegacySeal', () => {
  it.each([
    ['not an admin', { admin: false }, { wait: 'only an admin seals legacy invites' }],
    ['nothing to seal', { uses: [] }, { wait: 'no use of a 0.1.0 invite is left unsealed' }],
    [
      'every use sealed already',
      { sealed: new Set([key(use(0))]) },
      { wait: 'no use of a 0.1.0 invite is left unsealed' },
    ],
    [
      'a member still on 0.1.0',
      { everyMemberReadsWitnessed: false },
      { wait: 'a member of the mesh still runs Ripple 0.1.0, which reads no seal' },
    ],
    ['one use, due', {}, { seals: [[use(0)]] }],
    [
      'only the uses not sealed',
      { uses: uses(3), sealed: new Set([key(use(1))]) },
      { seals: [[use(0), use(2)]] },
    ],
  ])('%s', (_, over, plan) => {
    const input = {
      admin: true,
      everyMemberReadsWitnessed: true,
      uses: [use(0)],
      sealed: null,
      sealedKey: key,
    }
    expect(planLegacySeal({ ...input, ...over })).toEqual(plan)
  })

  it('splits what one seal cannot hold', () => {
    const plan = planLegacySeal({
      admin: true,
      everyMemberReadsWitnessed: true,
      uses: uses(600),
      sealed: null,
      sealedKey: key,
    })
    expect('seals' in plan && plan.seals.map((s) => s.length)).toEqual([256, 256, 88])
  })
})

describe('LegacySealer', () => {
  it('writes the seal once the mesh reads it, and nothing again once sealed', async () => {
    let reads = false
    const sealed = new Set<string>()
    const written: LegacyUse[][] = []
    const sealer = new LegacySealer({
      admin: true,
      everyMemberReadsWitnessed: () => reads,
      uses: () => uses(2),
      sealed: () => (sealed.size === 0 ? null : sealed),
      sealedKey: key,
      write: async (seal) => {
        written.push(seal.uses)
        for (const u of seal.uses) sealed.add(key(u))
      },
      intervalMs: 60_000,
      logger: silentLogger(),
    })
    expect(await sealer.sealDue()).toBe(0)
    reads = true
    expect(await sealer.sealDue()).toBe(2)
    expect(await sealer.sealDue()).toBe(0)
    expect(written).toEqual([[use(0), use(1)]])
  })
})
