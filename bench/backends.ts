/**
 * The two backends on the same work: start-up (start to the first answered zome call), a read and a
 * validated write one at a time, and resident memory. `embedded`: the conductor in this process (RSS:
 * this whole Node process); `holochain`: lair-keystore and a real Holochain 0.6.0 conductor running
 * workdir/ripple.happ, driven through @holochain/client (RSS: the `holochain` process), where the tools
 * are built (`bash scripts/build-holochain.sh`, `npm run build:happ`); elsewhere its row says why not.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEmbeddedConductor } from '../host/conductor/embedded/index.ts'
import { startHolochainBackend } from '../host/conductor/holochain/index.ts'
import type { NetworkConfig } from '../host/config/network-schema.ts'
import type { ConductorPort } from '../host/interface/conductor-port.ts'
import { silentLogger } from '../host/log/logger.ts'
import { HAPP_PATH, holochainSkipReason } from '../tests/fixtures/holochain-tools.ts'
import { capability } from '../tests/unit/conductor/fixtures/capability.ts'
import { percentile, round, rssMb, timeEach } from './measure.ts'
import type { BenchReport } from './report.ts'

const CALLS = 100
const WARMUP = 10

const network = (backend: NetworkConfig['backend']): NetworkConfig => ({
  name: 'bench-backends',
  seed: `bench-backends-${Date.now()}`,
  backend,
  dna_properties: { policy_store: { progenitor: null } },
  heartbeat: { interval_ms: 2000, stale_after_missed: 3, offline_after_ms: 30_000 },
  libp2p: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], psk: null },
  // One agent needs no peers: loopback addresses nothing answers, so nothing leaves the machine.
  holochain: { bootstrap_url: 'http://127.0.0.1:9', signal_url: 'ws://127.0.0.1:9' },
})

interface Started {
  port: ConductorPort
  rssMb(): Promise<number>
  stop(): Promise<void>
}

const STARTS: Record<NetworkConfig['backend'], (dataDir: string) => Promise<Started>> = {
  async embedded(dataDir) {
    const conductor = await createEmbeddedConductor({ dataDir, network: network('embedded') })
    return { port: conductor, rssMb: () => rssMb(process.pid), stop: () => conductor.close() }
  },
  async holochain(dataDir) {
    const backend = await startHolochainBackend({
      dataDir,
      network: network('holochain'),
      happPath: HAPP_PATH,
      logger: silentLogger(),
    })
    return { port: backend.conductor, rssMb: () => rssMb(backend.conductorPid!), stop: () => backend.stop() }
  },
}

async function measure(backend: NetworkConfig['backend']): Promise<BenchReport['rows'][number]> {
  const dataDir = await mkdtemp(join(tmpdir(), `ripple-bench-${backend}-`))
  const t0 = performance.now()
  const started = await STARTS[backend](dataDir)
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
    const ms = (samples: number[]) =>
      `${round(percentile(samples, 50), 2)} / ${round(percentile(samples, 95), 2)}`
    return {
      backend,
      'start-up ms': round(startupMs),
      'get_capability p50 / p95 ms': ms(read),
      'advertise_capability p50 / p95 ms': ms(write),
      'RSS MiB': await started.rssMb(),
    }
  } finally {
    await started.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
}

export default async function run(): Promise<BenchReport> {
  const rows: BenchReport['rows'] = [await measure('embedded')]
  const skip = holochainSkipReason(['holochain', 'lair-keystore'])
  rows.push(skip === null ? await measure('holochain') : { backend: 'holochain', 'start-up ms': 'not run' })
  const figures: BenchReport['figures'] = {}
  for (const row of rows)
    for (const [column, value] of Object.entries(row))
      if (typeof value === 'number') figures[`${row.backend}_${column.replace(/\W+/g, '_')}`] = value
  return {
    name: 'backends',
    rows,
    figures,
    note:
      `${CALLS} calls one at a time after ${WARMUP} warm-up on one agent; start-up is start to the first ` +
      "answered call (holochain: lair, the conductor, installing the five DNAs). An op seen by another agent is not timed here: on real conductors it is gossip's pace (see the tryorama scenarios' dhtSync)" +
      (skip === null ? '' : `. holochain not run: ${skip}`),
  }
}
