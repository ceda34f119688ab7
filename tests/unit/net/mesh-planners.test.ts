import { describe, expect, it } from 'vitest'
import {
  connectionBudget,
  DEFAULT_MAX_CONNECTIONS,
  decidesOn,
  type HeldPeer,
  peersToTrim,
  wantsNeighbours,
} from '../../../host/net/connection-budget.ts'
import { MODEL_SHARDS, modelShardKey, shardOf, shardRounds } from '../../../host/net/model-keys.ts'
import {
  FLOOD_PUBLISH_MAX_PEERS,
  floodsTo,
  MAX_INTERVAL_MS,
  publishersSeen,
  publishIntervalMs,
} from '../../../host/net/topic-pace.ts'

describe('connection budget', () => {
  it.each([
    // max_connections, cap, neighbour target, trim line
    [undefined, 64, 4, 48],
    [64, 64, 4, 48],
    [10_000, 10_000, 4, 7500],
    [8, 8, 2, 6],
    [3, 3, 1, 2],
    [1, 2, 1, 1],
  ])('max_connections %s: cap %i, neighbours %i, trimmed past %i', (max, cap, neighbours, trimAbove) => {
    expect(connectionBudget(max)).toEqual({ max: cap, neighbours, trimAbove })
  })

  it('keeps a team of five fully connected and a thousand at the target', () => {
    const budget = connectionBudget(DEFAULT_MAX_CONNECTIONS)
    // A peer of a five-peer mesh has four others: it still dials the last of them.
    expect(wantsNeighbours(3, budget)).toBe(true)
    expect(wantsNeighbours(4, budget)).toBe(false)
    expect(wantsNeighbours(999, budget)).toBe(false)
  })
})

describe('connection trim', () => {
  const budget = connectionBudget(8) // trimmed past 6
  const now = 100_000
  const peer = (id: string, over: Partial<HeldPeer> = {}): HeldPeer => ({
    id,
    connections: 1,
    outbound: true,
    kept: false,
    busy: false,
    released: false,
    asked: true,
    activeAt: now - 30_000,
    ...over,
  })
  const peers = (n: number, over: Partial<HeldPeer> = {}) =>
    Array.from({ length: n }, (_, i) => peer(`p${i}`, { activeAt: now - 30_000 + i, ...over }))

  it.each<[string, HeldPeer[], string[]]>([
    ['at the line: nothing', peers(6), []],
    ['past it: the newest first', peers(8), ['p7', 'p6']],
    [
      'kept and busy peers stay',
      [...peers(6), peer('k', { kept: true, activeAt: now }), peer('b', { busy: true, activeAt: now })],
      ['p5', 'p4'],
    ],
    [
      'one this young stays (a runner dialled for a request)',
      [...peers(6), peer('new', { activeAt: now - 5_000 })],
      ['p5'],
    ],
    [
      'a peer with two connections counts twice',
      [...peers(5), peer('two', { connections: 2, activeAt: now - 20_000 })],
      ['two'],
    ],
    ['nothing closable: nothing', peers(9, { kept: true }), []],
    ["inbound peers are the dialler's to close", peers(9, { outbound: false }), []],
    [
      'one of mine idle past a minute goes below the line too',
      [...peers(3), peer('old', { activeAt: now - 70_000 })],
      ['old'],
    ],
    ['idle ones count toward the excess', [...peers(6), peer('old', { activeAt: now - 70_000 })], ['old']],
    ['a busy old one stays', [...peers(3), peer('old', { busy: true, activeAt: now - 70_000 })], []],
    [
      'an explicit peer let go goes below the line once unused for the grace',
      [...peers(3), peer('inviter', { released: true, activeAt: now - 11_000 })],
      ['inviter'],
    ],
    ['not while just used', [...peers(3), peer('inviter', { released: true, activeAt: now - 1_000 })], []],
    [
      'but not while busy, nor when it dialled this peer',
      [
        ...peers(3),
        peer('busy', { released: true, busy: true, activeAt: now }),
        peer('in', { released: true, outbound: false }),
      ],
      [],
    ],
    [
      "a directory query's peer, never asked, goes once unused for the grace",
      [...peers(3), peer('walked', { asked: false, activeAt: now - 11_000 })],
      ['walked'],
    ],
    [
      'not while its query runs, nor just after',
      [
        ...peers(3),
        peer('querying', { asked: false, busy: true, activeAt: now - 20_000 }),
        peer('just', { asked: false, activeAt: now - 5_000 }),
      ],
      [],
    ],
    [
      'closed before the line is reached, asked ones kept below it',
      [...peers(5), peer('walked', { asked: false, activeAt: now - 15_000 })],
      ['walked'],
    ],
  ])('%s', (_name, held, trimmed) => {
    expect(peersToTrim(held, budget, now, { graceMs: 10_000, idleMs: 60_000 })).toEqual(trimmed)
  })

  it.each([
    // directions, self, peer, decides
    ['dialled here', ['outbound'], 'a', 'b', true],
    ['dialled here twice', ['outbound', 'outbound'], 'b', 'a', true],
    ["dialled by the peer: the peer's", ['inbound'], 'a', 'b', false],
    ['dialled both ways: the lower id decides', ['outbound', 'inbound'], 'a', 'b', true],
    ['dialled both ways: the higher id leaves it', ['inbound', 'outbound'], 'b', 'a', false],
  ] as const)('%s', (_name, directions, self, peer, decides) => {
    expect(decidesOn(directions, self, peer)).toBe(decides)
  })
})

describe('model keys', () => {
  it('are one per network, model and shard', () => {
    const keys = new Set<string>()
    for (const tag of ['aaaa', 'bbbb'])
      for (const model of ['llama-3-8b', 'qwen-2.5-7b'])
        for (let shard = 0; shard < MODEL_SHARDS; shard++)
          keys.add(modelShardKey(tag, model, shard).toString())
    expect(keys.size).toBe(2 * 2 * MODEL_SHARDS)
    expect(modelShardKey('aaaa', 'llama-3-8b', 3).toString()).toBe(
      modelShardKey('aaaa', 'llama-3-8b', 3).toString(),
    )
  })

  it('put a runner in the same shard every time, and spread runners over all shards', () => {
    const counts = Array.from({ length: MODEL_SHARDS }, () => 0)
    for (let i = 0; i < 800; i++) counts[shardOf(`peer-${i}`)]!++
    expect(shardOf('peer-7')).toBe(shardOf('peer-7'))
    // 100 a shard on average; none empty, none with a third of them.
    expect(Math.min(...counts)).toBeGreaterThan(60)
    expect(Math.max(...counts)).toBeLessThan(140)
  })

  it.each([
    // shards, rounds' sizes
    [8, [2, 6]],
    [3, [2, 1]],
    [2, [2]],
    [1, [1]],
  ])('with %i shards a finder reads them in rounds of %j, each shard once', (shards, sizes) => {
    const rounds = shardRounds(shards, () => 0.3)
    expect(rounds.map((r) => r.length)).toEqual(sizes)
    expect(rounds.flat().sort()).toEqual(Array.from({ length: shards }, (_, i) => i))
  })

  it('sends finders to different first shards', () => {
    const first = new Set<number>()
    for (let i = 0; i < 50; i++) first.add(shardRounds()[0]![0]!)
    expect(first.size).toBeGreaterThan(4)
  })
})

describe('topic pace', () => {
  it.each([
    // base ms, publishers, budget a second, interval ms
    [2_000, 1, 4, 2_000],
    [2_000, 8, 4, 2_000],
    [2_000, 9, 4, 2_250],
    [2_000, 100, 4, 25_000],
    [10_000, 1_000, 4, 250_000],
    [2_000, 100_000, 4, MAX_INTERVAL_MS],
    [2_000, 0, 4, 2_000],
    [400_000, 1, 4, 400_000],
  ])('base %i ms, %i publishers, %i a second: every %i ms', (baseMs, publishers, budgetPerSec, interval) => {
    expect(publishIntervalMs({ baseMs, publishers, budgetPerSec })).toBe(interval)
  })

  it('keeps a topic at its budget whatever the number of runners', () => {
    for (const runners of [10, 100, 1_000, 10_000]) {
      const interval = publishIntervalMs({ baseMs: 2_000, publishers: runners, budgetPerSec: 4 })
      if (interval < MAX_INTERVAL_MS) expect(runners / (interval / 1000)).toBeCloseTo(4)
    }
  })

  it.each([
    // messages seen, window ms, interval ms, publishers
    [0, 8_000, 2_000, 1],
    [4, 8_000, 2_000, 1],
    [40, 8_000, 2_000, 10],
    [400, 100_000, 25_000, 100],
    [10, 0, 2_000, 1],
  ])('%i messages over %i ms at one each %i ms: %i publishers', (seen, windowMs, intervalMs, publishers) => {
    expect(publishersSeen(seen, windowMs, intervalMs)).toBe(publishers)
  })

  it('settles: publishers read off the rate they make give back the same interval', () => {
    for (const runners of [3, 50, 700]) {
      let interval = 2_000
      for (let round = 0; round < 20; round++) {
        const windowMs = 4 * interval
        const seen = (runners * windowMs) / interval
        interval = publishIntervalMs({ baseMs: 2_000, publishers: publishersSeen(seen, windowMs, interval) })
      }
      expect(interval).toBe(publishIntervalMs({ baseMs: 2_000, publishers: runners }))
    }
  })

  it.each([
    [1, true],
    [FLOOD_PUBLISH_MAX_PEERS, true],
    [FLOOD_PUBLISH_MAX_PEERS + 1, false],
    [64, false],
  ])('a publish to a topic of %i peers floods: %s', (peers, floods) => {
    expect(floodsTo(peers)).toBe(floods)
  })
})
