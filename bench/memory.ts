/**
 * `npm run bench memory`: the shared memory on 3 embedded peers in this process (real libp2p on
 * loopback, each with its MemoryService, SQLite shard stores and hnswlib indexes): 100,000 vectors of
 * dimension 384 (MEMORY_BENCH_COUNT to change) in a collection of 8 shards with replication 2,
 * upserted from one peer and queried from another, against one index of the same data in one
 * process (a single ShardStore). Recall@10 is against an exact brute-force search; memory is the RSS
 * growth (and bytes on disk) while holding the vectors.
 */

import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createEmbeddedPeer, type EmbeddedPeer } from '../host/conductor/embedded/replication/index.ts'
import type { NetworkConfig } from '../host/config/network-schema.ts'
import { silentLogger } from '../host/log/logger.ts'
import { MemoryService } from '../host/memory/memory-service.ts'
import { agentMemoryTransport } from '../host/memory/memory-transport.ts'
import { ShardStore } from '../host/memory/shard-store.ts'
import { libp2pAgentPort } from '../host/node/agent-port.ts'
import { bruteForceTopK, clusteredVectors, recall, row } from '../tests/fixtures/vector-data.ts'
import { percentile, round, waitFor } from './measure.ts'
import type { BenchReport } from './report.ts'

const COUNT = Number(process.env.MEMORY_BENCH_COUNT ?? 100_000)
const DIM = 384
const PEERS = 3
const SHARDS = 8
const REPLICATION = 2
const QUERIES = 200
const K = 10
const BATCH = 2000

const network: NetworkConfig = {
  name: 'bench-memory',
  seed: `bench-memory-${process.pid}`,
  backend: 'embedded',
  dna_properties: { policy_store: { progenitor: null } },
  heartbeat: { interval_ms: 2000, stale_after_missed: 3, offline_after_ms: 30_000 },
  libp2p: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], psk: null },
}

const rssMb = () => process.memoryUsage().rss / 2 ** 20
const duMb = (dir: string) => Number(execFileSync('du', ['-sk', dir]).toString().split('\t')[0]) / 1024

interface QueryFigures {
  recall: number
  p50: number
  p95: number
}

async function timedQueries(
  data: Float32Array,
  queries: Float32Array,
  exact: number[][],
  search: (q: Float32Array) => Promise<string[]>,
): Promise<QueryFigures> {
  const latencies: number[] = []
  let total = 0
  for (let q = 0; q < QUERIES; q++) {
    const started = performance.now()
    const ids = await search(row(queries, DIM, q))
    latencies.push(performance.now() - started)
    total += recall(
      ids.map((id) => Number(id.slice(1))),
      exact[q] ?? [],
    )
  }
  void data
  return {
    recall: round(total / QUERIES, 4),
    p50: round(percentile(latencies, 50), 2),
    p95: round(percentile(latencies, 95), 2),
  }
}

export default async function run(): Promise<BenchReport> {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-memory-'))
  const data = clusteredVectors(COUNT, DIM, 21)
  const queries = clusteredVectors(QUERIES, DIM, 21, 1)
  const exact = Array.from({ length: QUERIES }, (_, q) => bruteForceTopK(data, DIM, row(queries, DIM, q), K))
  const peers: EmbeddedPeer[] = []
  const services: MemoryService[] = []
  try {
    // One index of everything in this process.
    let rss = rssMb()
    let started = performance.now()
    const single = ShardStore.open({
      dir: join(root, 'single'),
      dimension: DIM,
      metric: 'cosine',
      logger: silentLogger(),
    })
    for (let start = 0; start < COUNT; start += BATCH) {
      const n = Math.min(BATCH, COUNT - start)
      single.apply(
        Array.from({ length: n }, (_, j) => ({
          id: `d${start + j}`,
          vector: row(data, DIM, start + j),
          metadata: {},
          updated_at: 1,
        })),
      )
    }
    const singleUpsertMs = performance.now() - started
    const singleRss = rssMb() - rss
    const singleQ = await timedQueries(data, queries, exact, async (q) => single.query(q, K).map((h) => h.id))
    single.close()
    const singleDisk = duMb(join(root, 'single'))

    // The mesh.
    for (let i = 0; i < PEERS; i++) {
      peers.push(
        await createEmbeddedPeer({
          dataDir: join(root, `peer-${i}`),
          network,
          listen: ['/ip4/127.0.0.1/tcp/0'],
          peers: peers.flatMap((p) => p.node.multiaddrs().map(String)),
          loopbackTuning: true,
        }),
      )
    }
    await waitFor('a full mesh', () => peers.every((p) => p.node.peers.list().length === PEERS - 1), 30_000)
    const agents = peers.map((p) => p.conductor.agentPubKey)
    for (const [i, p] of peers.entries()) {
      const service = new MemoryService({
        conductor: p.conductor,
        transport: agentMemoryTransport(libp2pAgentPort(p.node)),
        dir: join(root, `peer-${i}`, 'memory'),
        peers: async () => agents.map((agent) => ({ agent, load: 0, capacity: 2 ** 40 })),
        logger: silentLogger(),
      })
      await service.start()
      services.push(service)
    }
    const [writer, reader] = services as [MemoryService, MemoryService]
    await writer.create({
      name: 'bench',
      dimension: DIM,
      metric: 'cosine',
      shard_count: SHARDS,
      replication: REPLICATION,
      embedding_model: 'none',
    })
    await waitFor(
      'every shard ready on its holders',
      async () => {
        const views = await Promise.all(services.map((s) => s.show('bench').catch(() => null)))
        return views.every((v, i) =>
          v?.shards.every((s) => !s.holders.includes(agents[i] ?? '') || s.here?.ready === true),
        )
      },
      60_000,
    )
    rss = rssMb()
    started = performance.now()
    for (let start = 0; start < COUNT; start += BATCH) {
      const n = Math.min(BATCH, COUNT - start)
      await writer.upsert(
        'bench',
        Array.from({ length: n }, (_, j) => ({
          id: `d${start + j}`,
          vector: Array.from(row(data, DIM, start + j)),
        })),
      )
    }
    const meshUpsertMs = performance.now() - started
    const meshRss = rssMb() - rss
    const meshQ = await timedQueries(data, queries, exact, async (q) => {
      const answer = await reader.query('bench', { vector: Array.from(q), k: K })
      if (answer.shards_missing.length > 0)
        throw new Error(`shards missing: ${answer.shards_missing.join(', ')}`)
      return answer.hits.map((h) => h.id)
    })
    for (const s of services.splice(0)) await s.stop()
    const meshDisk = peers.reduce((sum, _, i) => sum + duMb(join(root, `peer-${i}`, 'memory')), 0)
    const per100k = (mb: number) => round((mb * 100_000) / COUNT)
    const rows = [
      {
        setup: 'one index, one process',
        vectors: COUNT,
        recall_at_10: singleQ.recall,
        query_p50_ms: singleQ.p50,
        query_p95_ms: singleQ.p95,
        upserts_per_s: round(COUNT / (singleUpsertMs / 1000)),
        rss_mb_per_100k: per100k(singleRss),
        disk_mb_per_100k: per100k(singleDisk),
      },
      {
        setup: `${PEERS} peers, ${SHARDS} shards, replication ${REPLICATION}`,
        vectors: COUNT,
        recall_at_10: meshQ.recall,
        query_p50_ms: meshQ.p50,
        query_p95_ms: meshQ.p95,
        upserts_per_s: round(COUNT / (meshUpsertMs / 1000)),
        rss_mb_per_100k: per100k(meshRss),
        disk_mb_per_100k: per100k(meshDisk),
      },
    ]
    return {
      name: 'memory',
      rows,
      figures: {
        single_recall_at_10: singleQ.recall,
        single_query_p50_ms: singleQ.p50,
        single_query_p95_ms: singleQ.p95,
        single_upserts_per_s: rows[0]?.upserts_per_s ?? 0,
        mesh_recall_at_10: meshQ.recall,
        mesh_query_p50_ms: meshQ.p50,
        mesh_query_p95_ms: meshQ.p95,
        mesh_upserts_per_s: rows[1]?.upserts_per_s ?? 0,
        mesh_rss_mb_per_100k: rows[1]?.rss_mb_per_100k ?? 0,
        mesh_disk_mb_per_100k: rows[1]?.disk_mb_per_100k ?? 0,
      },
      note: `${COUNT} clustered vectors of dimension ${DIM}, cosine, hnswlib (M 16, ef 128/64); the mesh is ${PEERS} embedded peers in this process on loopback (every copy of a vector counted in its memory: replication ${REPLICATION}), upserted from one peer in batches of ${BATCH}, ${QUERIES} queries from another; recall@${K} vs brute force`,
    }
  } finally {
    for (const s of services) await s.stop().catch(() => {})
    for (const p of peers) await p.stop().catch(() => {})
    await rm(root, { recursive: true, force: true })
  }
}
