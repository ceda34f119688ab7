/**
 * Artifacts between two peers on 127.0.0.1, in one run: 1 MiB and 100 MiB (Kubo's deterministic
 * bytes) added on one and fetched on the other, through Ripple (two embedded peers in this process,
 * Helia on each peer's own libp2p node; add = import + pin + Artifact and PinCommitment; fetch =
 * artifact lookup + bitswap + sha256 check) against raw Helia between two plain libp2p nodes (TCP,
 * noise, yamux, identify, bitswap) with the same fs stores and import profile (unixfs-v1-2025).
 * Also this process's RSS (both peers) before and at its peak during Ripple's 100 MiB fetch.
 * Run: `npm run bench artifacts`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import { ArtifactService } from '../host/artifacts/artifact-service.ts'
import { createEmbeddedPeer, type EmbeddedPeer } from '../host/conductor/embedded/replication/index.ts'
import type { NetworkConfig } from '../host/config/network-schema.ts'
import { startHeliaStore } from '../host/ipfs/helia-store.ts'
import type { IpfsStore } from '../host/ipfs/ipfs-store.ts'
import { silentLogger } from '../host/log/logger.ts'
import { kuboDeterministicBytes } from '../tests/fixtures/kubo-deterministic-bytes.ts'
import { round, waitFor } from './measure.ts'
import type { BenchReport } from './report.ts'

const MiB = 1024 * 1024
const SIZES = [1 * MiB, 100 * MiB]

async function drain(source: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0
  for await (const chunk of source) n += chunk.byteLength
  return n
}

const network: NetworkConfig = {
  name: 'bench-artifacts',
  seed: `bench-artifacts-${process.pid}`,
  backend: 'embedded',
  dna_properties: { policy_store: { progenitor: null } },
  heartbeat: { interval_ms: 2000, stale_after_missed: 3, offline_after_ms: 30_000 },
  libp2p: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], psk: null },
}

interface Timing {
  add_ms: number
  fetch_ms: number
}

async function ripple(
  root: string,
  sizes: number[],
): Promise<{ timings: Timing[]; rssBeforeMb: number; rssPeakMb: number }> {
  const peers: EmbeddedPeer[] = []
  const stores: IpfsStore[] = []
  try {
    for (let i = 0; i < 2; i++) {
      peers.push(
        await createEmbeddedPeer({
          dataDir: join(root, `ripple-${i}`),
          network,
          listen: ['/ip4/127.0.0.1/tcp/0'],
          peers: peers.flatMap((p) => p.node.multiaddrs().map(String)),
          loopbackTuning: true,
        }),
      )
    }
    await waitFor('two peers', () => peers.every((p) => p.node.peers.list().length === 1), 30_000)
    const services = []
    for (const [i, p] of peers.entries()) {
      const ipfs = await startHeliaStore({ libp2p: p.node.libp2p, dir: join(root, `ripple-ipfs-${i}`) })
      stores.push(ipfs)
      services.push(new ArtifactService({ conductor: p.conductor, ipfs, logger: silentLogger() }))
    }
    const [a, b] = services
    const timings: Timing[] = []
    let rssBeforeMb = 0
    let rssPeakMb = 0
    for (const size of sizes) {
      const t0 = performance.now()
      const added = await a!.add(kuboDeterministicBytes(size, `bench-${size}`), { name: `bench-${size}` })
      const addMs = performance.now() - t0
      const cid = added.artifact.entry.cid
      for (;;) {
        if ((await b!.show(cid).catch(() => null)) !== null) break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      globalThis.gc?.()
      const before = process.memoryUsage().rss
      let peak = before
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss)
      }, 20)
      const t1 = performance.now()
      const read = await b!.read(cid)
      const got = await drain(read.bytes)
      const fetchMs = performance.now() - t1
      clearInterval(sampler)
      if (got !== size) throw new Error(`fetched ${got} bytes of ${size}`)
      if (size === sizes.at(-1)) {
        rssBeforeMb = before / MiB
        rssPeakMb = peak / MiB
      }
      timings.push({ add_ms: addMs, fetch_ms: fetchMs })
    }
    return { timings, rssBeforeMb, rssPeakMb }
  } finally {
    for (const s of stores) await s.stop()
    for (const p of peers) await p.stop()
  }
}

async function rawHelia(root: string, sizes: number[]): Promise<Timing[]> {
  const nodes: Libp2p[] = []
  const stores: IpfsStore[] = []
  try {
    for (let i = 0; i < 2; i++) {
      const node = await createLibp2p({
        addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        services: { identify: identify() },
      })
      nodes.push(node)
      stores.push(await startHeliaStore({ libp2p: node, dir: join(root, `raw-${i}`) }))
    }
    await nodes[1]!.dial(nodes[0]!.getMultiaddrs()[0]!)
    const timings: Timing[] = []
    for (const size of sizes) {
      const t0 = performance.now()
      const cid = await stores[0]!.add(kuboDeterministicBytes(size, `raw-${size}`), {
        profile: 'unixfs-v1-2025',
      })
      await stores[0]!.pin(cid)
      const addMs = performance.now() - t0
      const t1 = performance.now()
      const got = await drain(stores[1]!.cat(cid))
      const fetchMs = performance.now() - t1
      if (got !== size) throw new Error(`fetched ${got} bytes of ${size}`)
      timings.push({ add_ms: addMs, fetch_ms: fetchMs })
    }
    return timings
  } finally {
    for (const s of stores) await s.stop()
    for (const n of nodes) await n.stop()
  }
}

export default async function run(): Promise<BenchReport> {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-artifacts-'))
  try {
    const raw = await rawHelia(root, SIZES)
    const rip = await ripple(root, SIZES)
    const rows: Record<string, string | number>[] = SIZES.flatMap((size, i) => {
      const mib = size / MiB
      const r = rip.timings[i]!
      const h = raw[i]!
      return [
        {
          size: `${mib} MiB`,
          op: 'add',
          ripple_ms: round(r.add_ms),
          raw_helia_ms: round(h.add_ms),
          ratio: round(r.add_ms / h.add_ms, 2),
          ripple_mib_s: round(mib / (r.add_ms / 1000)),
        },
        {
          size: `${mib} MiB`,
          op: 'fetch',
          ripple_ms: round(r.fetch_ms),
          raw_helia_ms: round(h.fetch_ms),
          ratio: round(r.fetch_ms / h.fetch_ms, 2),
          ripple_mib_s: round(mib / (r.fetch_ms / 1000)),
        },
      ]
    })
    const figures: Record<string, number> = {
      rss_before_100mib_fetch_mb: round(rip.rssBeforeMb),
      rss_peak_during_100mib_fetch_mb: round(rip.rssPeakMb),
    }
    for (const [i, size] of SIZES.entries()) {
      figures[`add_${size / MiB}mib_ratio`] = round(rip.timings[i]!.add_ms / raw[i]!.add_ms, 2)
      figures[`fetch_${size / MiB}mib_ratio`] = round(rip.timings[i]!.fetch_ms / raw[i]!.fetch_ms, 2)
    }
    rows.push({
      size: '100 MiB',
      op: 'RSS (both peers, this process)',
      ripple_ms: `${round(rip.rssBeforeMb)} MB before`,
      raw_helia_ms: `${round(rip.rssPeakMb)} MB peak`,
      ratio: '',
      ripple_mib_s: '',
    })
    return {
      name: 'artifacts',
      rows,
      figures,
      note: 'add and fetch between two peers on 127.0.0.1: Ripple (artifact add / read, sha256-checked) vs raw Helia (addByteStream + pin / cat), same fs stores and unixfs-v1-2025; ratio = Ripple / raw',
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}
