/**
 * Gossip delivery latency on loopback: for N = 3, 10, 30 nodes in this one process (full mesh by
 * explicit dials, mDNS off, every socket on 127.0.0.1), publishers take turns sending 256-byte ops
 * at a steady rate; each other node records publish -> receive time. Reports median / p95 per N,
 * the share delivered, and resident memory per node (RSS growth / N: nodes share one runtime, so
 * this is the marginal cost of a node, not of a process). Run: `npm run bench gossip-latency`.
 */
import { performance } from 'node:perf_hooks'
import type { NetworkConfig } from '../host/config/network-schema.ts'
import { createRippleNode, type RippleNode } from '../host/net/create-node.ts'
import { percentile, round, sleep, waitFor } from './measure.ts'
import type { BenchReport } from './report.ts'

const SIZES = [3, 10, 30]
const MESSAGE_BYTES = 256
const MESSAGES_PER_S = 10
const PUBLISH_MS = 4_000
/** Sent before measuring, so connection warm-up and JIT do not count. */
const WARMUP_MESSAGES = 5
const DRAIN_MS = 1_500
const MESH_TIMEOUT_MS = 20_000
const GOSSIPSUB_DLO = 4

const NETWORK: NetworkConfig = {
  name: 'bench-gossip',
  seed: 'bench-gossip-latency',
  backend: 'embedded',
  dna_properties: {},
  heartbeat: { interval_ms: 2000, stale_after_missed: 3, offline_after_ms: 30_000 },
  libp2p: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], psk: null },
}

interface Result {
  nodes: number
  setup_ms: number
  messages: number
  delivered_pct: number
  median_ms: number
  p95_ms: number
  max_ms: number
  rss_per_node_mb: number
}

/** Node i dials nodes 0..i-1, so every pair gets exactly one connection. */
async function startMesh(count: number): Promise<RippleNode[]> {
  const nodes: RippleNode[] = []
  for (let i = 0; i < count; i++) {
    const peers = nodes.flatMap((n) => n.multiaddrs().map(String))
    nodes.push(await createRippleNode({ network: NETWORK, peers, loopbackTuning: true }))
  }
  await waitFor('a full mesh', () => nodes.every((n) => n.peers.list().length === count - 1), MESH_TIMEOUT_MS)
  // Relays forward to their gossip mesh only; gossipsub grafts up to D = 6 peers (at least
  // Dlo = 4) per topic on its 1 s heartbeat.
  const meshed = Math.min(count - 1, GOSSIPSUB_DLO)
  await waitFor(
    'gossip meshes',
    () => nodes.every((n) => n.pubsub.meshSize('ops') >= meshed),
    MESH_TIMEOUT_MS,
  )
  return nodes
}

async function measure(count: number): Promise<Result> {
  globalThis.gc?.()
  const rssBefore = process.memoryUsage().rss
  const setupStarted = performance.now()
  const nodes = await startMesh(count)
  const setupMs = performance.now() - setupStarted
  const rssPerNode = (process.memoryUsage().rss - rssBefore) / count

  const sentAt = new Map<number, number>()
  const latencies: number[] = []
  for (const node of nodes) {
    node.pubsub.addEventListener('op', (evt) => {
      // Passed on, as replication passes on what it accepted.
      evt.detail.verdict('accept')
      const seq = Buffer.from(evt.detail.data).readUInt32BE(0)
      const sent = sentAt.get(seq)
      if (sent !== undefined) latencies.push(performance.now() - sent)
    })
  }

  const total = WARMUP_MESSAGES + Math.round((PUBLISH_MS / 1000) * MESSAGES_PER_S)
  for (let seq = 0; seq < total; seq++) {
    const message = Buffer.alloc(MESSAGE_BYTES, seq % 251)
    message.writeUInt32BE(seq, 0)
    if (seq >= WARMUP_MESSAGES) sentAt.set(seq, performance.now())
    // Not awaited: the rate stays steady even when a publish is slow.
    void nodes[seq % count]!.pubsub.publish('ops', message)
    await sleep(1000 / MESSAGES_PER_S)
  }
  await sleep(DRAIN_MS)
  await Promise.all(nodes.map((n) => n.stop()))

  const sorted = latencies.sort((a, b) => a - b)
  const expected = sentAt.size * (count - 1)
  return {
    nodes: count,
    setup_ms: Math.round(setupMs),
    messages: sentAt.size,
    delivered_pct: round((100 * sorted.length) / expected),
    median_ms: round(percentile(sorted, 50)),
    p95_ms: round(percentile(sorted, 95)),
    max_ms: round(sorted.at(-1) ?? Number.NaN),
    rss_per_node_mb: round(rssPerNode / 2 ** 20),
  }
}

export default async function run(): Promise<BenchReport> {
  const rows: Result[] = []
  for (const count of SIZES) rows.push(await measure(count))
  const figures: Record<string, number> = {}
  for (const r of rows) {
    figures[`n${r.nodes}_median_ms`] = r.median_ms
    figures[`n${r.nodes}_p95_ms`] = r.p95_ms
    figures[`n${r.nodes}_delivered_pct`] = r.delivered_pct
    figures[`n${r.nodes}_rss_per_node_mb`] = r.rss_per_node_mb
  }
  return {
    name: 'gossip-latency',
    rows: rows.map((r) => ({ ...r })),
    figures,
    note:
      `${MESSAGE_BYTES}-byte ops at ${MESSAGES_PER_S}/s for ${PUBLISH_MS / 1000} s, publishers in turn, ` +
      'all nodes in one process on 127.0.0.1 (full mesh, explicit dials); latency = publish -> ' +
      'receive on every other node; RSS per node = process RSS growth / N.',
  }
}
