/**
 * The two backends on the same work: start-up (start to the first answered zome call), a read and a
 * validated write one at a time, resident memory, and an op seen by another agent (a second agent
 * joins the first's network; each capability the first advertises is timed to the second's reads
 * showing it, ./backends/op-seen.ts). `embedded`: peers in this process replicating over libp2p on
 * 127.0.0.1 (explicit dials, mDNS off; RSS: this whole Node process, before the second peer starts);
 * `holochain`: lair-keystore and a real Holochain 0.6.0 conductor per agent running
 * workdir/ripple.happ, driven through @holochain/client, meeting through a local kitsune2
 * bootstrap/signal server (RSS: the first agent's `holochain` process), where the tools are built
 * (`bash scripts/build-holochain.sh`, `npm run build:happ`); elsewhere its row says why not.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEmbeddedPeer, type EmbeddedPeer } from '../host/conductor/embedded/replication/index.ts'
import { startHolochainBackend } from '../host/conductor/holochain/index.ts'
import type { NetworkConfig } from '../host/config/network-schema.ts'
import type { ConductorPort } from '../host/interface/conductor-port.ts'
import { silentLogger } from '../host/log/logger.ts'
import { HAPP_PATH, holochainSkipReason, startBootstrapServer } from '../tests/fixtures/holochain-tools.ts'
import { capability } from '../tests/unit/conductor/fixtures/capability.ts'
import { type OpSeenInit, timeOpSeen } from './backends/op-seen.ts'
import { percentile, round, rssMb, timeEach, waitFor } from './measure.ts'
import type { BenchReport } from './report.ts'

const CALLS = 100
const WARMUP = 10
/** Per backend: how many writes the second agent must see, how often it looks, how long it waits. */
const OP_SEEN: Record<NetworkConfig['backend'], OpSeenInit> = {
  embedded: { writes: 20, pollMs: 20, firstTimeoutMs: 30_000, timeoutMs: 10_000 },
  // The first sighting between real conductors waits on discovery and gossip: up to a minute or two.
  holochain: { writes: 5, pollMs: 200, firstTimeoutMs: 240_000, timeoutMs: 120_000 },
}

const network = (
  backend: NetworkConfig['backend'],
  holochain?: NetworkConfig['holochain'],
): NetworkConfig => ({
  name: 'bench-backends',
  seed: `bench-backends-${backend}-${Date.now()}`,
  backend,
  dna_properties: { policy_store: { progenitor: null } },
  heartbeat: { interval_ms: 2000, stale_after_missed: 3, offline_after_ms: 30_000 },
  libp2p: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], psk: null },
  holochain,
})

interface Agent {
  port: ConductorPort
  stop(): Promise<void>
}

/** The first agent, and a way to start a second on its network. */
interface Started extends Agent {
  rssMb(): Promise<number>
  startSecond(dataDir: string): Promise<Agent>
}

const embeddedPeer = (dataDir: string, net: NetworkConfig, peers: string[]): Promise<EmbeddedPeer> =>
  createEmbeddedPeer({ dataDir, network: net, listen: ['/ip4/127.0.0.1/tcp/0'], peers, loopbackTuning: true })

const STARTS: Record<NetworkConfig['backend'], (dataDir: string) => Promise<Started>> = {
  async embedded(dataDir) {
    const net = network('embedded')
    const a = await embeddedPeer(dataDir, net, [])
    return {
      port: a.conductor,
      rssMb: () => rssMb(process.pid),
      stop: () => a.stop(),
      async startSecond(dir) {
        const b = await embeddedPeer(dir, net, a.node.multiaddrs().map(String))
        await waitFor('the second peer connected', () => b.node.peers.list().length === 1)
        return { port: b.conductor, stop: () => b.stop() }
      },
    }
  },
  async holochain(dataDir) {
    const bootstrap = await startBootstrapServer()
    const net = network('holochain', {
      bootstrap_url: bootstrap.bootstrapUrl,
      signal_url: bootstrap.signalUrl,
    })
    const start = (dir: string) =>
      startHolochainBackend({ dataDir: dir, network: net, happPath: HAPP_PATH, logger: silentLogger() })
    const a = await start(dataDir).catch((err: unknown) => {
      bootstrap.stop()
      throw err
    })
    return {
      port: a.conductor,
      rssMb: () => rssMb(a.conductorPid!),
      async stop() {
        await a.stop()
        bootstrap.stop()
      },
      async startSecond(dir) {
        const b = await start(dir)
        return { port: b.conductor, stop: () => b.stop() }
      },
    }
  },
}

const ms = (samples: number[]) =>
  `${round(percentile(samples, 50), 2)} / ${round(percentile(samples, 95), 2)}`

async function measure(
  backend: NetworkConfig['backend'],
  figures: BenchReport['figures'],
): Promise<BenchReport['rows'][number]> {
  const root = await mkdtemp(join(tmpdir(), `ripple-bench-${backend}-`))
  const [dirA, dirB] = [join(root, 'a'), join(root, 'b')]
  await Promise.all([mkdir(dirA), mkdir(dirB)])
  const t0 = performance.now()
  const started = await STARTS[backend](dirA)
  let second: Agent | undefined
  try {
    const { port } = started
    await port.callZome('agent_registry', 'advertise_capability', capability({ name: 'bench' }))
    const startupMs = performance.now() - t0
    const read = await timeEach(() => port.callZome('agent_registry', 'get_capability', port.agentPubKey), {
      calls: CALLS,
      warmup: WARMUP,
    })
    const write = await timeEach(
      (i) =>
        port.callZome('agent_registry', 'advertise_capability', capability({ name: `bench-${i + WARMUP}` })),
      { calls: CALLS, warmup: WARMUP },
    )
    const rss = await started.rssMb()
    second = await started.startSecond(dirB)
    const seen = await timeOpSeen(port, second.port, OP_SEEN[backend])
    figures[`${backend}_op_seen_p50_ms`] = round(percentile(seen.laterMs, 50), 2)
    figures[`${backend}_op_seen_p95_ms`] = round(percentile(seen.laterMs, 95), 2)
    return {
      backend,
      'start-up ms': round(startupMs),
      'get_capability p50 / p95 ms': ms(read),
      'advertise_capability p50 / p95 ms': ms(write),
      'RSS MiB': rss,
      'first op seen ms': seen.firstMs === null ? 'not seen' : round(seen.firstMs),
      'op seen p50 / p95 ms': `${ms(seen.laterMs)} (${seen.laterMs.length} of ${OP_SEEN[backend].writes - 1})`,
    }
  } finally {
    await second?.stop()
    await started.stop()
    await rm(root, { recursive: true, force: true })
  }
}

export default async function run(): Promise<BenchReport> {
  const figures: BenchReport['figures'] = {}
  const rows: BenchReport['rows'] = [await measure('embedded', figures)]
  const skip = holochainSkipReason(['holochain', 'lair-keystore', 'kitsune2-bootstrap-srv'])
  rows.push(
    skip === null ? await measure('holochain', figures) : { backend: 'holochain', 'start-up ms': 'not run' },
  )
  for (const row of rows)
    for (const [column, value] of Object.entries(row))
      if (typeof value === 'number') figures[`${row.backend}_${column.replace(/\W+/g, '_')}`] = value
  const seen = (b: NetworkConfig['backend']) =>
    `${OP_SEEN[b].writes} for ${b} (polled every ${OP_SEEN[b].pollMs} ms)`
  return {
    name: 'backends',
    rows,
    figures,
    note:
      `${CALLS} calls one at a time after ${WARMUP} warm-up on one agent; start-up is start to the first ` +
      'answered call (holochain: lair, the conductor, installing the five DNAs). Op seen: a second agent ' +
      "joins the first's network, then the first advertises capabilities one at a time, " +
      `${seen('embedded')}, ${seen('holochain')}; each is timed from the call returning to the second's ` +
      "get_capability or list_nodes showing it; the first write (the second agent's first sync: on " +
      'holochain, discovery and gossip) is reported apart, p50 / p95 over the rest (how many were seen; ' +
      'embedded: the second write, published before the first agent saw the second subscribe, is fetched ' +
      "by the second's exchange half a second after it saw the first's subscription)" +
      (skip === null ? '' : `. holochain not run: ${skip}`),
  }
}
