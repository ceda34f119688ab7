import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { CorruptShardError, type DocWrite, ShardStore } from '../../../host/memory/shard-store.ts'
import { bruteForceTopK, clusteredVectors, recall, row } from '../../fixtures/vector-data.ts'
import { tempDirs } from './fixtures/temp-dirs.ts'

const dir = tempDirs('ripple-shard-')

/** A logger whose warnings the test reads. */
function recordingLogger(): { logger: pino.Logger; warnings: string[] } {
  const warnings: string[] = []
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) })
  return { logger, warnings }
}

const DIM = 16
const write = (id: string, vector: number[] | null, updated_at = 1, metadata = {}): DocWrite => ({
  id,
  vector: vector && Float32Array.from(vector),
  metadata,
  updated_at,
})
/** A store in a fresh dir, quiet. */
const openStore = async (metric: 'l2' | 'cosine', dimension = DIM) =>
  ShardStore.open({ dir: await dir(), dimension, metric, logger: pino({ level: 'silent' }) })
const axis = (i: number, scale = 1) => Array.from({ length: DIM }, (_, d) => (d === i ? scale : 0.01))

describe('ShardStore', () => {
  it('says the memory its index takes, which doubles when the index makes room for more', async () => {
    const store = await openStore('l2')
    // Room for 1,024 at first: each a vector of 16 floats, 33 four-byte links and counts, its label,
    // level and upper-links pointer, and a 16th of an upper layer's 17.
    const first = 1024 * (DIM * 4 + 33 * 4 + 20 + (17 * 4) / 16)
    expect(store.indexBytes()).toBe(Math.ceil(first))
    store.apply(Array.from({ length: 1100 }, (_, i) => write(`d${i}`, axis(i % DIM, 1 + i))))
    expect(store.indexBytes()).toBe(Math.ceil(2 * first))
    store.close()
  })

  it('finds the nearest documents of 2,000 with recall@10 >= 0.95 against brute force', async () => {
    const store = await openStore('cosine', 32)
    const data = clusteredVectors(2000, 32, 3)
    store.apply(
      Array.from({ length: 2000 }, (_, i) => ({
        id: `d${i}`,
        vector: row(data, 32, i),
        metadata: {},
        updated_at: 1,
      })),
    )
    const queries = clusteredVectors(20, 32, 3, 1)
    let total = 0
    for (let q = 0; q < 20; q++) {
      const found = store.query(row(queries, 32, q), 10).map((h) => Number(h.id.slice(1)))
      total += recall(found, bruteForceTopK(data, 32, row(queries, 32, q), 10))
    }
    expect(total / 20).toBeGreaterThanOrEqual(0.95)
    expect(store.count()).toBe(2000)
    store.close()
  })

  it('filters by metadata, deletes, and keeps the newest write of an id whatever the order', async () => {
    const store = await openStore('cosine')
    store.apply([
      write('a', axis(0), 1, { lang: 'en', n: 1 }),
      write(
        'b',
        axis(0, 0.9).map((x, d) => (d === 1 ? 0.3 : x)),
        1,
        { lang: 'fr', n: 2 },
      ),
      write('c', axis(1), 1, { lang: 'en', n: 3 }),
    ])
    expect(store.query(Float32Array.from(axis(0)), 2).map((h) => h.id)).toEqual(['a', 'b'])
    expect(store.query(Float32Array.from(axis(0)), 2, { lang: 'en' }).map((h) => h.id)).toEqual(['a', 'c'])
    expect(store.query(Float32Array.from(axis(0)), 5, { lang: 'de' })).toEqual([])
    const [hit] = store.query(Float32Array.from(axis(1)), 1, { n: 3 })
    expect(hit).toMatchObject({ id: 'c', metadata: { lang: 'en', n: 3 } })

    expect(store.apply([write('a', null, 5)])).toBe(1)
    expect(store.apply([write('a', axis(0), 4)])).toBe(0) // older than the delete: ignored
    expect(store.query(Float32Array.from(axis(0)), 3).map((h) => h.id)).toEqual(['b', 'c'])
    store.apply([write('a', axis(2), 6, { lang: 'en', n: 9 })])
    expect(store.query(Float32Array.from(axis(2)), 1).map((h) => [h.id, h.metadata.n])).toEqual([['a', 9]])
    expect(store.count()).toBe(3)
    expect(store.changesAfter({ updated_at: 1, id: '\uffff' }, 10).map((w) => [w.id, w.updated_at])).toEqual([
      ['a', 6],
    ])
    store.close()
  })

  it('reopens its saved index as it was, and rebuilds a damaged one from the store with a warning', async () => {
    const d = await dir()
    const store = ShardStore.open({ dir: d, dimension: DIM, metric: 'l2', logger: pino({ level: 'silent' }) })
    store.apply([write('x', axis(3)), write('y', axis(4)), write('z', null)])
    const before = store.query(Float32Array.from(axis(3)), 2)
    store.close()
    expect(existsSync(join(d, 'index.hnsw'))).toBe(true)

    const quiet = recordingLogger()
    const reopened = ShardStore.open({ dir: d, dimension: DIM, metric: 'l2', logger: quiet.logger })
    expect(reopened.query(Float32Array.from(axis(3)), 2)).toEqual(before)
    reopened.close()
    expect(quiet.warnings).toEqual([])

    writeFileSync(join(d, 'index.hnsw'), 'not an index')
    const noisy = recordingLogger()
    const rebuilt = ShardStore.open({ dir: d, dimension: DIM, metric: 'l2', logger: noisy.logger })
    expect(noisy.warnings).toEqual([expect.stringMatching(/index file is damaged/)])
    expect(rebuilt.query(Float32Array.from(axis(3)), 2)).toEqual(before)
    rebuilt.close()
  })

  it('refuses a store that is not SQLite, or holds another dimension, naming the file', async () => {
    const d = await dir()
    writeFileSync(
      join(d, 'shard.sqlite'),
      'garbage that is long enough to not be an empty database file at all',
    )
    expect(() =>
      ShardStore.open({ dir: d, dimension: DIM, metric: 'l2', logger: pino({ level: 'silent' }) }),
    ).toThrow(CorruptShardError)
    const e = await dir()
    ShardStore.open({ dir: e, dimension: DIM, metric: 'l2', logger: pino({ level: 'silent' }) }).close()
    expect(() =>
      ShardStore.open({ dir: e, dimension: 8, metric: 'l2', logger: pino({ level: 'silent' }) }),
    ).toThrow(/shard\.sqlite.*dimension 16, the collection 8/)
  })

  it('agrees on two writes of one id in the same millisecond whatever order they come in, and ignores one held again', async () => {
    const [a, b] = [await openStore('l2'), await openStore('l2')]
    const first = write('x', axis(1), 7, { v: 1 })
    const second = write('x', axis(2), 7, { v: 2 })
    const gone = write('x', null, 7)
    a.apply([first])
    a.apply([second])
    a.apply([gone])
    b.apply([gone])
    b.apply([second])
    b.apply([first])
    expect(b.changesAfter({ updated_at: 0, id: '' }, 10)).toEqual(
      a.changesAfter({ updated_at: 0, id: '' }, 10),
    )
    expect(b.digest()).toBe(a.digest())
    expect(a.apply([first, second, gone])).toBe(0)
    expect(a.count()).toBe(1)
    a.close()
    b.close()
  })
})
