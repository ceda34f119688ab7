import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  HandoffRunner,
  type HandoffRunnerInit,
  planHandoffs,
} from '../../../../host/conductor/embedded/replication/handoff-runner.ts'
import type { PlacedOp } from '../../../../host/conductor/embedded/replication/neighbourhood-summary.ts'
import { opHolders } from '../../../../host/conductor/embedded/replication/op-holders.ts'
import { encodeHashB64, holoHashFrom32 } from '../../../../host/identity/hash.ts'

const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest())
const mesh = Array.from({ length: 12 }, (_, i) =>
  encodeHashB64(holoHashFrom32(sha256(`member ${i}`), 'agent')),
)
const R = 3
const dna = holoHashFrom32(sha256('dna'), 'dna')
const op = (i: number, bases: 'own' | 'everyone' = 'own'): PlacedOp => {
  const hash = holoHashFrom32(sha256(`op ${i}`), 'action')
  return { hash, bases: bases === 'own' ? [hash] : null, author: mesh[0]! }
}
const without = (gone: string) => mesh.filter((m) => m !== gone)

describe('planning the hand-off of held ops', () => {
  const held = op(1)
  const [first, second, third] = opHolders(held.hash, mesh, R)
  const fourth = opHolders(held.hash, mesh, R + 1)[R]!
  it.each([
    ['the closest holder leaves: the second pushes to the fourth', first!, second!, [fourth]],
    ['the closest holder leaves: the third pushes nothing', first!, third!, []],
    ['the farthest holder leaves: the closest pushes', third!, first!, [fourth]],
    [
      'a member that holds nothing of it leaves',
      mesh.find((m) => m !== fourth && !opHolders(held.hash, mesh, R).includes(m))!,
      first!,
      [],
    ],
  ] as const)('%s', (_what, gone, self, to) => {
    const plan = planHandoffs(dna, [held], { before: mesh, after: without(gone), self, holders: R })
    expect(plan.map((h) => h.to)).toEqual(to)
  })

  it('hands nothing of an op every member holds', () => {
    const everywhere = op(2, 'everyone')
    expect(
      planHandoffs(dna, [everywhere], { before: mesh, after: mesh.slice(1), self: mesh[1]!, holders: R }),
    ).toEqual([])
  })
})

describe('running the hand-off', () => {
  const ops = Array.from({ length: 200 }, (_, i) => op(i))

  it('plans on a change only, pushes a bounded part each round, and tries a failed push again', async () => {
    const gone = mesh[0]!
    const after = without(gone)
    const pushed: [string, number][] = []
    let refuse = true
    const runners = mesh.slice(1).map((self) => {
      const mine = ops.filter((o) => opHolders(o.hash, mesh, R).includes(self))
      return new HandoffRunner({
        self,
        holders: R,
        dnaHashes: [dna],
        ops: () => mine,
        perRound: 10,
        push: async (to, _dna, hashes) => {
          if (refuse) {
            refuse = false
            throw new Error('unreachable')
          }
          pushed.push(...hashes.map((h): [string, number] => [to, ops.findIndex((o) => o.hash === h)]))
        },
      })
    })
    for (const runner of runners) expect(await runner.round(mesh)).toBe(0)
    const lost = ops.filter((o) => opHolders(o.hash, mesh, R).includes(gone))
    expect(lost.length).toBeGreaterThan(10)
    let rounds = 0
    while (runners.some((r) => r.queued.length > 0) || rounds === 0) {
      for (const runner of runners) expect(await runner.round(after)).toBeLessThanOrEqual(10)
      rounds++
    }
    // Each op the gone member held reached its one new holder once, from one pusher.
    const expected = lost.map((o) => [
      opHolders(o.hash, after, R).find((m) => !opHolders(o.hash, mesh, R).includes(m))!,
      ops.indexOf(o),
    ])
    expect([...pushed].sort()).toEqual([...expected].sort())
    expect(rounds).toBeGreaterThan(1)
  })

  /** The runner of `self` over the ops it holds in `mesh`, pushing nothing a round: it only queues. */
  const queueing = (self: string, push: HandoffRunnerInit['push'] = async () => {}) =>
    new HandoffRunner({
      self,
      holders: R,
      dnaHashes: [dna],
      ops: () => ops.filter((o) => opHolders(o.hash, mesh, R).includes(self)),
      perRound: 0,
      push,
    })

  it('drops what it queued for a member gone meanwhile', async () => {
    const pushed: string[] = []
    const self = mesh[1]!
    const runner = queueing(self, async (to) => {
      pushed.push(to)
    })
    await runner.round(mesh)
    const after = mesh.filter((m) => m !== mesh[0])
    await runner.round(after)
    expect(runner.queued.length).toBeGreaterThan(0)
    const targets = ops
      .flatMap((o) => planHandoffs(dna, [o], { before: mesh, after, self, holders: R }))
      .map((h) => h.to)
    await runner.round(after.filter((m) => !targets.includes(m)))
    expect(runner.queued.filter((h) => targets.includes(h.to))).toEqual([])
    expect(pushed).toEqual([])
  })

  it('queues each push once when a member flaps, however often the same change comes again', async () => {
    const self = mesh[1]!
    const runner = queueing(self)
    const flapping = without(mesh[0]!)
    await runner.round(mesh)
    await runner.round(flapping)
    const once = runner.queued.length
    expect(once).toBeGreaterThan(0)
    for (let i = 0; i < 3; i++) {
      await runner.round(mesh)
      await runner.round(flapping)
    }
    // Gone again, what it was handed while back is dropped; the pushes to the others are queued once.
    const key = (h: (typeof runner.queued)[number]) => `${h.to} ${encodeHashB64(h.hash)}`
    expect(new Set(runner.queued.map(key)).size).toBe(runner.queued.length)
    expect(runner.queued.length).toBe(once)
  })
})
