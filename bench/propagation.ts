/**
 * Propagation latency of the embedded mesh: for N = 3, 10, 30 peers in this one process (full mesh
 * by explicit dials on 127.0.0.1, mDNS off, real rules wasm, SQLite in the OS temp dir), peers take
 * turns writing (an agent_registry capability update), and each write is timed from its commit on
 * the author to its being stored, verified and validated, on every other peer. Writes go one at a
 * time (the next after the last one arrived everywhere, or timed out), so latency is not queueing.
 * Also idle RSS per peer: process RSS growth over the N peers once they settled, divided by N.
 * Run: `npm run bench propagation`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createEmbeddedPeer, type EmbeddedPeer } from '../host/conductor/embedded/replication/index.ts'
import type { NetworkConfig } from '../host/config/network-schema.ts'
import { encodeHashB64 } from '../host/identity/hash.ts'
import { capability } from '../tests/unit/conductor/fixtures/capability.ts'
import { percentile, round, sleep, waitFor } from './measure.ts'
import type { BenchReport } from './report.ts'

const SIZES = [3, 10, 30]
const WRITES = 30
/** Pause between writes, so each one meets a quiet mesh. */
const GAP_MS = 40
const WRITE_TIMEOUT_MS = 3_000
const SETUP_TIMEOUT_MS = 30_000

interface Result {
  peers: number
  setup_ms: number
  writes: number
  delivered_pct: number
  median_ms: number
  p95_ms: number
  max_ms: number
  rss_per_peer_mb: number
}

function network(count: number): NetworkConfig {
  return {
    name: 'bench-propagation',
    seed: `bench-propagation-${count}-${process.pid}`,
    backend: 'embedded',
    dna_properties: { policy_store: { progenitor: null } },
    heartbeat: { interval_ms: 2000, stale_after_missed: 3, offline_after_ms: 30_000 },
    libp2p: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], psk: null },
  }
}

const registry = (peer: EmbeddedPeer) => peer.conductor.cell('agent_registry')

/** Peer i dials peers 0..i-1, so every pair gets one connection; then every chain everywhere. */
async function startMesh(count: number, root: string): Promise<EmbeddedPeer[]> {
  const peers: EmbeddedPeer[] = []
  for (let i = 0; i < count; i++) {
    peers.push(
      await createEmbeddedPeer({
        dataDir: join(root, `peer-${i}`),
        network: network(count),
        listen: ['/ip4/127.0.0.1/tcp/0'],
        peers: peers.flatMap((p) => p.node.multiaddrs().map(String)),
        loopbackTuning: true,
      }),
    )
  }
  await waitFor(
    'a full mesh',
    () => peers.every((p) => p.node.peers.list().length === count - 1),
    SETUP_TIMEOUT_MS,
  )
  await waitFor('ops subscriptions', () =>
    peers.every((p) => p.node.pubsub.subscribers('ops').length === count - 1),
  )
  await waitFor('every genesis everywhere', () =>
    peers.every((p) => p.conductor.store.chainHeads(registry(p).dnaHash).length === count),
  )
  return peers
}

async function measure(count: number): Promise<Result> {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-propagation-'))
  globalThis.gc?.()
  const rssBefore = process.memoryUsage().rss
  const setupStarted = performance.now()
  const peers = await startMesh(count, root)
  const setupMs = performance.now() - setupStarted
  try {
    // First capabilities (creates and links), then let gossipsub graft its meshes before timing.
    await Promise.all(
      peers.map((p, i) =>
        p.conductor.callZome('agent_registry', 'advertise_capability', capability({ name: `peer-${i}` })),
      ),
    )
    const ownHeads = peers.map((p) => registry(p).chain.head.seq)
    await waitFor('first capabilities everywhere', () =>
      peers.every((p) =>
        peers.every(
          (author, i) =>
            p.conductor.store.chainHead(registry(p).dnaHash, registry(author).agentPubKey)?.seq ===
            ownHeads[i],
        ),
      ),
    )
    await waitFor(
      'gossip meshes',
      () => peers.every((p) => p.node.pubsub.meshSize('ops') > 0),
      SETUP_TIMEOUT_MS,
    )
    await sleep(1_500)
    globalThis.gc?.()
    const rssPerPeer = (process.memoryUsage().rss - rssBefore) / count

    const committedAt = new Map<string, number>()
    const arrivals = new Map<string, number[]>()
    for (const peer of peers) {
      peer.conductor.onOpsCommitted((event) => {
        for (const { action } of event.actions) committedAt.set(encodeHashB64(action.hash), performance.now())
      })
      peer.replication.onOpsStored((event) => {
        const now = performance.now()
        for (const action of event.actions) {
          const key = encodeHashB64(action.hash)
          arrivals.set(key, [...(arrivals.get(key) ?? []), now])
        }
      })
    }

    const latencies: number[] = []
    let delivered = 0
    for (let k = 0; k < WRITES; k++) {
      const author = peers[k % count]!
      const ref = await author.conductor.callZome(
        'agent_registry',
        'advertise_capability',
        capability({ name: `peer-${k % count}-v${k}` }),
      )
      const deadline = performance.now() + WRITE_TIMEOUT_MS
      while ((arrivals.get(ref.action_hash)?.length ?? 0) < count - 1 && performance.now() < deadline)
        await sleep(1)
      const times = arrivals.get(ref.action_hash) ?? []
      if (times.length === count - 1) {
        delivered++
        latencies.push(Math.max(...times) - committedAt.get(ref.action_hash)!)
      }
      await sleep(GAP_MS)
    }
    const sorted = latencies.sort((a, b) => a - b)
    return {
      peers: count,
      setup_ms: Math.round(setupMs),
      writes: WRITES,
      delivered_pct: round((100 * delivered) / WRITES),
      median_ms: round(percentile(sorted, 50)),
      p95_ms: round(percentile(sorted, 95)),
      max_ms: round(sorted.at(-1) ?? Number.NaN),
      rss_per_peer_mb: round(rssPerPeer / 2 ** 20),
    }
  } finally {
    await Promise.all(peers.map((p) => p.stop()))
    await rm(root, { recursive: true, force: true })
  }
}

export default async function run(): Promise<BenchReport> {
  const rows: Result[] = []
  for (const count of SIZES) rows.push(await measure(count))
  const figures: Record<string, number> = {}
  for (const r of rows) {
    figures[`n${r.peers}_median_ms`] = r.median_ms
    figures[`n${r.peers}_p95_ms`] = r.p95_ms
    figures[`n${r.peers}_delivered_pct`] = r.delivered_pct
    figures[`n${r.peers}_rss_per_peer_mb`] = r.rss_per_peer_mb
  }
  return {
    name: 'propagation',
    rows: rows.map((r) => ({ ...r })),
    figures,
    note:
      `${WRITES} capability updates per size, authors in turn, one at a time; latency = commit on the ` +
      'author -> stored (signature, chain, rules wasm checked) on every other peer; all peers in one ' +
      'process on 127.0.0.1 (full mesh, explicit dials); RSS per peer = process RSS growth / N.',
  }
}
