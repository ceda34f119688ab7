import { describe, expect, it } from 'vitest'
import { planSplit, type SplitCandidate, tensorSplit } from '../../../host/split/split-plan.ts'

const GiB = 1024 ** 3
const BUILD = 'de3ff815ea7d/rpc7.0.0'
const peer = (agent: string, freeGiB: number, over: Partial<SplitCandidate> = {}): SplitCandidate => ({
  agent,
  hasFile: false,
  freeBytes: freeGiB * GiB,
  rttMs: 1,
  engineBuild: BUILD,
  ...over,
})

describe('planSplit', () => {
  it.each([
    {
      case: 'a peer with the file that holds it alone: no split',
      peers: [peer('a', 16, { hasFile: true }), peer('b', 32)],
      need: 10,
      expected: { kind: 'single', agent: 'a' },
    },
    {
      case: 'even peers: the head and the fewest workers, equal shares',
      peers: [peer('head', 4, { hasFile: true }), peer('b', 4), peer('c', 4), peer('d', 4)],
      need: 9,
      head: 'head',
      shares: [
        ['head', 0.333],
        ['b', 0.333],
        ['c', 0.333],
      ],
    },
    {
      case: 'mixed sizes: the biggest first, layers in proportion to free memory (not even)',
      peers: [peer('head', 4, { hasFile: true }), peer('small', 2), peer('big', 12), peer('mid', 6)],
      need: 12,
      head: 'head',
      shares: [
        ['head', 0.25],
        ['big', 0.75],
      ],
    },
    {
      case: 'a peer too far away is left out, though it has the most room',
      peers: [peer('head', 4, { hasFile: true }), peer('far', 64, { rttMs: 250 }), peer('near', 8)],
      need: 9,
      head: 'head',
      shares: [
        ['head', 0.333],
        ['near', 0.667],
      ],
      skipped: [['far', /too far: 250 ms round trip/]],
    },
    {
      case: 'another engine build is never paired, with which side to update',
      peers: [
        peer('head', 4, { hasFile: true }),
        peer('old', 16, { engineBuild: 'aaaa/rpc6.0.0' }),
        peer('b', 8),
      ],
      need: 9,
      head: 'head',
      shares: [
        ['head', 0.333],
        ['b', 0.667],
      ],
      skipped: [
        ['old', /runs engine build aaaa\/rpc6\.0\.0, the head runs de3ff815ea7d\/rpc7\.0\.0.*update/],
      ],
    },
    {
      case: 'the head is the peer with the file and the most room; unmeasured peers after measured ones',
      peers: [
        peer('h1', 2, { hasFile: true }),
        peer('h2', 6, { hasFile: true }),
        peer('x', 6, { rttMs: null }),
        peer('y', 6),
      ],
      need: 10,
      head: 'h2',
      shares: [
        ['h2', 0.5],
        ['y', 0.5],
      ],
    },
  ])('$case', ({ peers, need, expected, head, shares, skipped }) => {
    const plan = planSplit(peers, { needBytes: need * GiB })
    if (expected) {
      expect(plan).toEqual(expected)
      return
    }
    if (plan.kind !== 'split') throw new Error(`no split: ${JSON.stringify(plan)}`)
    expect(plan.head).toBe(head)
    expect(plan.shares.map((s) => [s.agent, Math.round(s.share * 1000) / 1000])).toEqual(shares)
    expect(plan.shares.reduce((sum, s) => sum + s.bytes, 0)).toBeCloseTo(need * GiB, -3)
    for (const [agent, reason] of skipped ?? [])
      expect(plan.skipped.find((s) => s.agent === agent)?.reason).toMatch(reason as RegExp)
  })

  it('says why no split can serve it: no file, or not enough memory in the mesh', () => {
    expect(planSplit([peer('a', 64)], { needBytes: GiB })).toMatchObject({
      kind: 'none',
      reason: 'no peer has the model file',
    })
    const short = planSplit([peer('h', 2, { hasFile: true }), peer('b', 2)], { needBytes: 8 * GiB })
    expect(short).toMatchObject({
      kind: 'none',
      reason: expect.stringMatching(/4\.00 GiB free on 2 usable peers; the model needs about 9\.60 GiB/),
    })
  })

  it('writes the shares as --tensor-split proportions, head first', () => {
    expect(
      tensorSplit([
        { agent: 'h', share: 0.25, bytes: 1 },
        { agent: 'b', share: 0.75, bytes: 3 },
      ]),
    ).toBe('250,750')
  })
})
