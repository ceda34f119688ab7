import { join } from 'node:path'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import {
  type BucketDigest,
  bucketOf,
  planRepair,
  REPAIR_SHIFTS,
  repairFrom,
} from '../../../host/memory/repair-plan.ts'
import { type DocWrite, ShardStore } from '../../../host/memory/shard-store.ts'
import { tempDirs } from './fixtures/temp-dirs.ts'

const d = (bucket: number, digest: string, count = 1): BucketDigest => ({
  bucket,
  count,
  digest: digest.padStart(16, '0'),
})
const LEAF = REPAIR_SHIFTS.length - 1
const leafWidth = 2 ** (REPAIR_SHIFTS[LEAF] ?? 0)

describe('planRepair', () => {
  it.each([
    {
      name: 'replicas that agree: nothing',
      level: 0,
      mine: [d(0, 'a')],
      theirs: [d(0, 'a')],
      ask: [],
      pull: [],
    },
    { name: 'both empty: nothing', level: 2, mine: [], theirs: [], ask: [], pull: [] },
    {
      name: 'a differing root: every bucket one level down (the holder answers those it has)',
      level: 0,
      mine: [d(0, 'a')],
      theirs: [d(0, 'b')],
      ask: [{ level: 1, from: 0, to: 2 ** 17 - 1 }],
      pull: [],
    },
    {
      name: 'an empty copy asks under the other’s root',
      level: 0,
      mine: [],
      theirs: [d(0, 'b', 7)],
      ask: [{ level: 1, from: 0, to: 2 ** 17 - 1 }],
      pull: [],
    },
    {
      name: 'only the differing buckets are opened (bucket 5 differs, 9 is missing here)',
      level: 2,
      mine: [d(3, 'a'), d(5, 'b')],
      theirs: [d(3, 'a'), d(5, 'c'), d(9, 'd')],
      ask: [
        { level: 3, from: 5 * 256, to: 6 * 256 - 1 },
        { level: 3, from: 9 * 256, to: 10 * 256 - 1 },
      ],
      pull: [],
    },
    {
      name: 'the same digest with another count still differs',
      level: 1,
      mine: [d(4, 'a', 2)],
      theirs: [d(4, 'a', 3)],
      ask: [{ level: 2, from: 4 * 256, to: 5 * 256 - 1 }],
      pull: [],
    },
    {
      name: 'a bucket only this copy has is not pulled (the other pulls it from here)',
      level: 1,
      mine: [d(1, 'a'), d(2, 'b')],
      theirs: [d(1, 'a')],
      ask: [],
      pull: [],
    },
    {
      name: 'at the finest level, differing buckets are pulled as time ranges, adjacent ones merged',
      level: LEAF,
      mine: [d(10, 'a'), d(11, 'a'), d(20, 'a')],
      theirs: [d(10, 'b'), d(11, 'c'), d(12, 'd'), d(20, 'a'), d(30, 'e')],
      ask: [],
      pull: [
        { from: 10 * leafWidth, before: 13 * leafWidth },
        { from: 30 * leafWidth, before: 31 * leafWidth },
      ],
    },
    {
      name: 'buckets that start after the settled time are left for a later round',
      level: LEAF,
      mine: [],
      theirs: [d(10, 'b'), d(11, 'c'), d(12, 'd')],
      settledBefore: 11 * leafWidth + 1,
      ask: [],
      pull: [{ from: 10 * leafWidth, before: 12 * leafWidth }],
    },
    {
      name: 'above the finest level, recent buckets are still opened',
      level: 3,
      mine: [],
      theirs: [d(7, 'b')],
      settledBefore: 0,
      ask: [{ level: 4, from: 7 * 256, to: 8 * 256 - 1 }],
      pull: [],
    },
  ])('$name', ({ level, mine, theirs, ask, pull, settledBefore }) => {
    expect(planRepair(level, mine, theirs, settledBefore)).toEqual({ ask, pull })
  })

  it('buckets nest: a write’s bucket at each level lies in the range its parent opens', () => {
    for (const t of [0, 1, 4095, 4096, 1_700_000_000_000, 2 ** 52 + 12_345]) {
      expect(bucketOf(t, 0)).toBe(0)
      for (let level = 0; level < LEAF; level++) {
        const parent = bucketOf(t, level)
        const { ask } = planRepair(level, [], [d(parent, 'f')])
        expect(ask[0]?.from).toBeLessThanOrEqual(bucketOf(t, level + 1))
        expect(ask[0]?.to).toBeGreaterThanOrEqual(bucketOf(t, level + 1))
      }
      const { pull } = planRepair(LEAF, [], [d(bucketOf(t, LEAF), 'f')])
      expect(pull[0]?.from).toBeLessThanOrEqual(t)
      expect(pull[0]?.before).toBeGreaterThan(t)
    }
  })
})

const tempDir = tempDirs('ripple-repair-')

async function store(): Promise<ShardStore> {
  const dir = await tempDir()
  return ShardStore.open({ dir, dimension: 2, metric: 'l2', logger: pino({ level: 'silent' }) })
}

const w = (id: string, updated_at: number, vector: number[] | null = [updated_at % 97, 1]): DocWrite => ({
  id,
  vector: vector && Float32Array.from(vector),
  metadata: {},
  updated_at,
})

/** Repairs `into` from `from` (what the service does over the wire): how many writes were read and asked. */
async function repair(into: ShardStore, from: ShardStore): Promise<{ pulled: number; asked: number }> {
  let pulled = 0
  let asked = 0
  await repairFrom({
    mine: (r) => into.digests(r.level, r.from, r.to),
    theirs: async (r) => {
      asked++
      return from.digests(r.level, r.from, r.to)
    },
    pull: async (p) => {
      const writes = from.changesAfter({ updated_at: p.from, id: '' }, 1_000_000, p.before)
      pulled += writes.length
      return into.apply(writes)
    },
  })
  return { pulled, asked }
}

describe('repair between two shard stores', () => {
  it('keeps digests by buckets whatever order or batches the writes came in', async () => {
    const writes = Array.from({ length: 300 }, (_, i) => w(`d${i % 120}`, 1_700_000_000_000 + i * 977))
    const a = await store()
    const b = await store()
    a.apply(writes)
    for (const x of [...writes].reverse()) b.apply([x])
    expect(b.digest()).toBe(a.digest())
    for (let level = 0; level <= LEAF; level++)
      expect(b.digests(level, 0, Number.MAX_SAFE_INTEGER)).toEqual(
        a.digests(level, 0, Number.MAX_SAFE_INTEGER),
      )
    expect(a.digests(0, 0, 0)).toEqual([{ bucket: 0, count: 120, digest: a.digest() }])
  })

  it('pulls only what the other misses (missed upserts, an update, deletes) out of 5,000 spread over days', async () => {
    const start = 1_700_000_000_000
    // Writes a minute apart for ~3.5 days.
    const common = Array.from({ length: 5000 }, (_, i) => w(`d${i}`, start + i * 60_000))
    const a = await store()
    const b = await store()
    a.apply(common)
    b.apply(common)
    expect(await repair(b, a)).toEqual({ pulled: 0, asked: 1 })
    // While b was away: two new documents, an update and a delete reached only a.
    const missed = [
      w('new-1', start + 10_000 * 60_000),
      w('new-2', start + 10_000 * 60_000 + 5),
      w('d17', start + 10_001 * 60_000, [5, 5]),
      w('d4000', start + 10_002 * 60_000, null),
    ]
    a.apply(missed)
    // And b took a write a missed (a's repair pulls it from b).
    const onlyB = w('b-only', start + 20 * 60_000 + 1)
    b.apply([onlyB])
    expect(b.digest()).not.toBe(a.digest())

    const fromA = await repair(b, a)
    // The four writes sit in 4 s buckets of their own; one more is read: d20, in the bucket where b
    // differs by holding b-only. Nothing else of the 5,000 is read.
    expect(fromA.pulled).toBe(5)
    expect((await repair(a, b)).pulled).toBeLessThanOrEqual(2)
    expect(b.digest()).toBe(a.digest())
    expect(b.count()).toBe(a.count())
    expect(b.count()).toBe(5000 + 2 - 1 + 1)
    expect(b.query(Float32Array.from([5, 5]), 1)[0]?.id).toBe('d17')
    expect(b.changesAfter({ updated_at: 0, id: '' }, 10_000)).toEqual(
      a.changesAfter({ updated_at: 0, id: '' }, 10_000),
    )
    expect(await repair(b, a)).toEqual({ pulled: 0, asked: 1 })
  })

  it('digests a store written before digests existed when it opens', async () => {
    const dir = await tempDir()
    const open = () => ShardStore.open({ dir, dimension: 2, metric: 'l2', logger: pino({ level: 'silent' }) })
    const first = open()
    first.apply([w('x', 5), w('y', 9_000)])
    const digest = first.digest()
    first.close()
    // As an older store: no digests, no version for them.
    const Database = (await import('better-sqlite3')).default
    const db = new Database(join(dir, 'shard.sqlite'))
    db.exec("DELETE FROM digests; DELETE FROM meta WHERE key = 'digests_version'")
    db.close()
    const reopened = open()
    expect(reopened.digest()).toBe(digest)
    expect(reopened.digests(LEAF, 0, 10)).toHaveLength(2)
    reopened.close()
  })
})
