import { describe, expect, it } from 'vitest'
import {
  type CapacityPeer,
  CHUNK_BYTES,
  chunkWrites,
  mergeTopK,
  placeCollections,
  planQuery,
  shardOf,
  shardsOf,
} from '../../../host/memory/memory-plan.ts'

const peers = (n: number) => Array.from({ length: n }, (_, i) => `uhCAk-peer-${i}`)
const roomy = (agents: readonly string[]): CapacityPeer[] =>
  agents.map((agent) => ({ agent, capacity: 2 ** 40 }))

/** One collection of empty shards over peers with ample room. */
function placeShards(collection: string, count: number, replication: number, agents: readonly string[]) {
  const shardBytes = new Array<number>(count).fill(0)
  return placeCollections([{ collection, replication, shardBytes }], roomy(agents)).get(collection) ?? []
}

describe('shardOf', () => {
  it.each([
    ['doc-1', 8],
    ['doc-2', 8],
    ['', 1],
    ['é', 1024],
  ])('puts %j in a shard below %i, the same one every time', (id, count) => {
    const shard = shardOf(id, count)
    expect(shard).toBeGreaterThanOrEqual(0)
    expect(shard).toBeLessThan(count)
    expect(shardOf(id, count)).toBe(shard)
  })

  it('spreads 8,000 ids over 8 shards evenly (each within 15% of 1,000)', () => {
    const counts = new Array(8).fill(0)
    for (let i = 0; i < 8000; i++) counts[shardOf(`id-${i}`, 8)]++
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150)
  })
})

describe('placeShards', () => {
  it.each([
    { n: 1, replication: 2, holders: 1 },
    { n: 3, replication: 2, holders: 2 },
    { n: 5, replication: 3, holders: 3 },
    { n: 2, replication: 5, holders: 2 },
  ])(
    '$n peers, replication $replication: $holders distinct holders per shard',
    ({ n, replication, holders }) => {
      const placement = placeShards('uhCkk-c', 8, replication, peers(n))
      expect(placement).toHaveLength(8)
      for (const h of placement) {
        expect(h).toHaveLength(holders)
        expect(new Set(h).size).toBe(holders)
      }
    },
  )

  it('is the same whatever order the peers are listed in', () => {
    expect(placeShards('c', 16, 2, peers(5))).toEqual(placeShards('c', 16, 2, peers(5).reverse()))
  })

  it('moves only the leaver’s shards when a peer leaves, and gives a joiner only the shards it takes', () => {
    const before = placeShards('c', 64, 2, peers(5))
    const gone = 'uhCAk-peer-2'
    const after = placeShards(
      'c',
      64,
      2,
      peers(5).filter((p) => p !== gone),
    )
    for (const [shard, holders] of before.entries()) {
      const kept = holders.filter((h) => h !== gone)
      // Every holder that stays keeps its shard.
      for (const h of kept) expect(after[shard]).toContain(h)
      if (!holders.includes(gone)) expect(after[shard]).toEqual(holders)
    }
    const joined = placeShards('c', 64, 2, [...peers(5), 'uhCAk-new'])
    let moved = 0
    for (const [shard, holders] of before.entries()) {
      const added = (joined[shard] ?? []).filter((h) => !holders.includes(h))
      expect(added.every((h) => h === 'uhCAk-new')).toBe(true)
      moved += added.length
    }
    expect(moved).toBe(shardsOf(joined, 'uhCAk-new').length)
    // Its fair share: 64 shards x 2 copies over 6 peers is ~21; rendezvous keeps it near that.
    expect(moved).toBeGreaterThan(10)
    expect(moved).toBeLessThan(35)
  })
})

describe('placeCollections with capacity', () => {
  const GiB = 2 ** 30
  const four = peers(4)
  const shards = (n: number, bytes: number) => new Array<number>(n).fill(bytes)

  it.each([
    {
      name: 'a peer advertising 0 holds nothing',
      capacity: [0, GiB, GiB, GiB],
      bytes: shards(16, 0),
      replication: 2,
      check: (p: string[][]) => expect(shardsOf(p, four[0]!)).toEqual([]),
    },
    {
      name: 'only one peer with capacity: every shard on it, one copy',
      capacity: [0, 0, GiB, 0],
      bytes: shards(8, 0),
      replication: 3,
      check: (p: string[][]) => expect(p).toEqual(shards(8, 0).map(() => [four[2]])),
    },
    {
      name: 'nobody advertises capacity: no shard has a holder',
      capacity: [0, 0, 0, 0],
      bytes: shards(4, 0),
      replication: 2,
      check: (p: string[][]) => expect(p).toEqual([[], [], [], []]),
    },
    {
      name: 'a peer with room for 2 shards of 400 MiB holds at most 2',
      capacity: [GiB, 100 * GiB, 100 * GiB, 100 * GiB],
      bytes: shards(16, 400 * 2 ** 20),
      replication: 2,
      check: (p: string[][]) => {
        expect(shardsOf(p, four[0]!).length).toBeLessThanOrEqual(2)
        for (const h of p) expect(h).toHaveLength(2)
      },
    },
    {
      name: 'a shard bigger than every room has no holder; the small ones still fit',
      capacity: [GiB, GiB, GiB, GiB],
      bytes: [0, 2 * GiB, 0],
      replication: 2,
      check: (p: string[][]) => {
        expect(p[1]).toEqual([])
        expect(p[0]).toHaveLength(2)
        expect(p[2]).toHaveLength(2)
      },
    },
  ])('$name', ({ capacity, bytes, replication, check }) => {
    const placed = placeCollections(
      [{ collection: 'c', replication, shardBytes: bytes }],
      four.map((agent, i) => ({ agent, capacity: capacity[i] ?? 0 })),
    )
    check(placed.get('c') ?? [])
  })

  it('never holds more than a peer advertises, over several collections', () => {
    const capacity = [3 * GiB, 5 * GiB, 2 * GiB, 8 * GiB]
    const demands = ['a', 'b', 'c'].map((collection) => ({
      collection,
      replication: 2,
      shardBytes: shards(8, GiB / 2),
    }))
    const placed = placeCollections(
      demands,
      four.map((agent, i) => ({ agent, capacity: capacity[i] ?? 0 })),
    )
    for (const [i, agent] of four.entries()) {
      const held = [...placed.values()].reduce((n, p) => n + shardsOf(p, agent).length, 0)
      expect(held * (GiB / 2)).toBeLessThanOrEqual(capacity[i] ?? 0)
    }
    // 48 copies of 0.5 GiB wanted, 18 GiB of room: 36 fit, so some shards have fewer copies.
    const copies = [...placed.values()].flat().reduce((n, h) => n + h.length, 0)
    expect(copies).toBe(36)
  })

  it('a newer collection never moves an older one', () => {
    const agents = four.map((agent) => ({ agent, capacity: 4 * GiB }))
    const old = { collection: 'old', replication: 2, shardBytes: shards(8, GiB / 4) }
    const alone = placeCollections([old], agents).get('old')
    const withNew = placeCollections(
      [old, { collection: 'new', replication: 2, shardBytes: shards(8, GiB) }],
      agents,
    )
    expect(withNew.get('old')).toEqual(alone)
  })
})

describe('chunkWrites', () => {
  const writes = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `doc-${i}` }))

  it.each([
    { name: 'nothing to write: no request', n: 0, shards: 4, dimension: 3, want: [] },
    { name: 'a small batch: one request', n: 10, shards: 1, dimension: 3, want: [[10]] },
    {
      name: '2,500 writes of 384 floats: 1,024 a request (2 MiB)',
      n: 2500,
      shards: 1,
      dimension: 384,
      want: [[1024, 1024, 452]],
    },
    {
      name: 'a write bigger than a request still goes, alone',
      n: 3,
      shards: 1,
      dimension: CHUNK_BYTES,
      want: [[1, 1, 1]],
    },
  ])('$name', ({ n, shards, dimension, want }) => {
    const planned = chunkWrites(writes(n), shards, dimension)
    expect(planned.map((s) => s.chunks.map((c) => c.length))).toEqual(want)
  })

  it('puts each write in its shard once, shards in order, each keeping the order given', () => {
    const all = writes(200)
    const planned = chunkWrites(all, 4, 3)
    expect(planned.map((s) => s.shard)).toEqual([0, 1, 2, 3])
    for (const { shard, chunks } of planned)
      expect(chunks.flat()).toEqual(all.filter((w) => shardOf(w.id, 4) === shard))
  })
})

describe('planQuery', () => {
  const placement = [
    ['a', 'b'],
    ['b', 'c'],
    ['c', 'a'],
  ]
  const loads: Record<string, number> = { a: 0.9, b: 0.1, c: 0.5 }

  it.each([
    {
      name: 'least loaded first',
      ready: () => true,
      want: [
        ['b', 'a'],
        ['b', 'c'],
        ['c', 'a'],
      ],
    },
    { name: 'a down', ready: (p: string) => p !== 'a', want: [['b'], ['b', 'c'], ['c']] },
    {
      name: 'c still catching up on shard 1',
      ready: (p: string, s: number) => !(p === 'c' && s === 1),
      want: [['b', 'a'], ['b'], ['c', 'a']],
    },
    { name: 'nobody ready', ready: () => false, want: [[], [], []] },
  ])('$name', ({ ready, want }) => {
    expect(planQuery('c', placement, ready, (p) => loads[p] ?? 1).map((r) => r.holders)).toEqual(want)
  })

  it('asks holders that failed lately (load Infinity) last, and keeps two of them in rendezvous order', () => {
    const suspect = (p: string) => (p === 'b' || p === 'c' ? Number.POSITIVE_INFINITY : (loads[p] ?? 1))
    const routes = planQuery('c', placement, () => true, suspect).map((r) => r.holders)
    expect(routes[0]).toEqual(['a', 'b'])
    expect(routes[2]).toEqual(['a', 'c'])
    expect(routes[1]?.slice().sort()).toEqual(['b', 'c'])
    expect(planQuery('c', placement, () => true, suspect)[1]?.holders).toEqual(routes[1])
  })
})

describe('mergeTopK', () => {
  it.each([
    { answers: [], k: 3, want: [] },
    {
      answers: [
        [
          { id: 'a', distance: 0.1 },
          { id: 'b', distance: 0.4 },
        ],
        [
          { id: 'c', distance: 0.2 },
          { id: 'd', distance: 0.3 },
        ],
      ],
      k: 3,
      want: ['a', 'c', 'd'],
    },
    {
      name: 'a replica answering twice keeps one copy, the nearer',
      answers: [
        [{ id: 'a', distance: 0.5 }],
        [
          { id: 'a', distance: 0.2 },
          { id: 'b', distance: 0.3 },
        ],
      ],
      k: 5,
      want: ['a', 'b'],
    },
  ])('merges into the k nearest (%#)', ({ answers, k, want }) => {
    expect(mergeTopK(answers, k).map((h) => h.id)).toEqual(want)
  })
})
