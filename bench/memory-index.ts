/**
 * `npm run bench memory-index`: the measurement behind the vector index a memory shard uses. usearch and
 * hnswlib-node index the same clustered vectors with the same graph settings (M 16, ef construction
 * 128, ef search 64, cosine, one thread); each runs in a process of its own so its memory is its own.
 * Recall@10 is against an exact brute-force search over the same data.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bruteForceTopK, clusteredVectors, recall, row } from '../tests/fixtures/vector-data.ts'
import { percentile, round, rssMb } from './measure.ts'
import type { BenchReport } from './report.ts'

const COUNT = Number(process.env.MEMORY_INDEX_COUNT ?? 20_000)
const DIMENSION = 384
const QUERIES = 200
const K = 10
const M = 16
const EF_CONSTRUCTION = 128
const EF_SEARCH = 64
const LIBRARIES = ['usearch', 'hnswlib-node'] as const
type Library = (typeof LIBRARIES)[number]

interface LibraryFigures {
  build_ms: number
  recall_at_10: number
  query_p50_ms: number
  query_p95_ms: number
  index_rss_mb: number
  file_mb: number
}

interface AnnIndex {
  add(ids: number[], data: Float32Array): void
  search(query: Float32Array, k: number): number[]
  save(path: string): Promise<void>
}

const require = createRequire(import.meta.url)

function openUsearch(): AnnIndex {
  const { Index, MetricKind, ScalarKind } = require('usearch') as typeof import('usearch')
  const index = new Index({
    dimensions: DIMENSION,
    metric: MetricKind.Cos,
    quantization: ScalarKind.F32,
    connectivity: M,
    expansion_add: EF_CONSTRUCTION,
    expansion_search: EF_SEARCH,
    multi: false,
  })
  return {
    add: (ids, data) => index.add(BigUint64Array.from(ids, BigInt), data, 1),
    search: (query, k) => Array.from(index.search(query, k, 1).keys, Number),
    save: async (path) => index.save(path),
  }
}

function openHnswlib(): AnnIndex {
  const { HierarchicalNSW } = require('hnswlib-node') as typeof import('hnswlib-node')
  const index = new HierarchicalNSW('cosine', DIMENSION)
  index.initIndex({ maxElements: COUNT, m: M, efConstruction: EF_CONSTRUCTION, randomSeed: 100 })
  index.setEf(EF_SEARCH)
  return {
    add: (ids, data) => {
      for (const [i, id] of ids.entries()) index.addPoint(Array.from(row(data, DIMENSION, i)), id)
    },
    search: (query, k) => index.searchKnn(Array.from(query), k).neighbors,
    save: async (path) => {
      await index.writeIndex(path)
    },
  }
}

/** Runs in the child process: build, query, save one library's index. */
async function measure(library: Library): Promise<LibraryFigures> {
  const data = clusteredVectors(COUNT, DIMENSION, 1)
  const queries = clusteredVectors(QUERIES, DIMENSION, 1, 1)
  const exact = Array.from({ length: QUERIES }, (_, q) =>
    bruteForceTopK(data, DIMENSION, row(queries, DIMENSION, q), K),
  )
  const rssBefore = await rssMb(process.pid)
  const started = performance.now()
  const index = library === 'usearch' ? openUsearch() : openHnswlib()
  index.add(
    Array.from({ length: COUNT }, (_, i) => i),
    data,
  )
  const buildMs = performance.now() - started
  const rssAfter = await rssMb(process.pid)
  const latencies: number[] = []
  let recallSum = 0
  for (let q = 0; q < QUERIES; q++) {
    const t = performance.now()
    const found = index.search(row(queries, DIMENSION, q), K)
    latencies.push(performance.now() - t)
    recallSum += recall(found, exact[q] ?? [])
  }
  const dir = await mkdtemp(join(tmpdir(), 'ripple-bench-index-'))
  try {
    const file = join(dir, 'index.bin')
    await index.save(file)
    const { size } = await stat(file)
    return {
      build_ms: round(buildMs),
      recall_at_10: round(recallSum / QUERIES, 4),
      query_p50_ms: round(percentile(latencies, 50), 3),
      query_p95_ms: round(percentile(latencies, 95), 3),
      index_rss_mb: round(rssAfter - rssBefore),
      file_mb: round(size / 2 ** 20),
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function inChild(library: Library): Promise<LibraryFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), library], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as LibraryFigures)
        : reject(new Error(`${library} bench exited ${code}`)),
    )
  })
}

export default async function run(): Promise<BenchReport> {
  const rows: BenchReport['rows'] = []
  const figures: Record<string, number> = {}
  for (const library of LIBRARIES) {
    const f = await inChild(library)
    rows.push({ library, vectors: COUNT, dimension: DIMENSION, ...f })
    for (const [key, value] of Object.entries(f)) figures[`${library.replace('-node', '')}_${key}`] = value
  }
  return {
    name: 'memory-index',
    rows,
    figures,
    note: `usearch vs hnswlib-node on ${COUNT} clustered vectors of dimension ${DIMENSION}, cosine, M ${M}, ef construction ${EF_CONSTRUCTION}, ef search ${EF_SEARCH}, one thread, ${QUERIES} queries; recall@${K} vs brute force; RSS growth while building`,
  }
}

const child = process.argv[2]
if (child !== undefined && (LIBRARIES as readonly string[]).includes(child)) {
  process.stdout.write(JSON.stringify(await measure(child as Library)))
}
