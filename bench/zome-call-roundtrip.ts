/**
 * A zome call through Holochain's WebSocket API with the official client (HolochainConductor: signed
 * call, msgpack framing, loopback socket, nonce/grant checks, then the same embedded zome) against the
 * same call made in process on the embedded conductor.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEmbeddedConductor } from '../host/conductor/embedded/index.ts'
import { serveConductorApi } from '../host/conductor/embedded/websocket-api/conductor-api.ts'
import { HolochainConductor } from '../host/conductor/holochain/holochain-conductor.ts'
import type { NetworkConfig } from '../host/config/network-schema.ts'
import { openAgentKey } from '../host/identity/keystore.ts'
import { payloadHash } from '../host/identity/payload-hash.ts'
import type { ConductorPort } from '../host/interface/conductor-port.ts'
import { capability } from '../tests/unit/conductor/fixtures/capability.ts'
import { NO_REQUIREMENTS, type Task } from '../zomes-bindings/index.ts'
import { percentile, round, timeEach } from './measure.ts'
import type { BenchReport } from './report.ts'

const CALLS = 400
const WARMUP = 50

const NETWORK: NetworkConfig = {
  name: 'bench',
  seed: `bench-${Date.now()}`,
  backend: 'embedded',
  dna_properties: { policy_store: { progenitor: null } },
  heartbeat: { interval_ms: 2000, stale_after_missed: 3, offline_after_ms: 30_000 },
  libp2p: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], psk: null },
}

function task(i: number): Task {
  return {
    kind: 'echo',
    input_hash: payloadHash({ message: `bench ${i}` }),
    input_bytes: 20,
    input_cid: null,
    requirements: NO_REQUIREMENTS,
    lease_ms: 5_000,
    deadline: (Date.now() + 3_600_000) * 1000,
    max_attempts: 1,
    fan_out: 1,
  }
}

export default async function run(): Promise<BenchReport> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ripple-bench-zome-'))
  const embedded = await createEmbeddedConductor({ dataDir, network: NETWORK })
  const key = await openAgentKey(dataDir)
  const api = await serveConductorApi({
    conductor: embedded,
    network: NETWORK,
    transport: { peerUrls: () => [], connections: () => [] },
    sign: (bytes) => key.sign(bytes),
    adminPort: 0,
  })
  const client = await HolochainConductor.connect({ adminUrl: api.adminUrl, network: NETWORK, happPath: '' })
  try {
    await embedded.callZome('agent_registry', 'advertise_capability', capability({ name: 'bench' }))
    const cases: [string, (port: ConductorPort) => (i: number) => Promise<unknown>][] = [
      [
        'get_capability (read)',
        (port) => () => port.callZome('agent_registry', 'get_capability', port.agentPubKey),
      ],
      [
        'submit_task (write, validated)',
        (port) => (i) => port.callZome('resource_mesh', 'submit_task', task(i)),
      ],
    ]
    const rows: BenchReport['rows'] = []
    const figures: BenchReport['figures'] = {}
    for (const [label, makeCall] of cases) {
      const direct = await timeEach(makeCall(embedded), { calls: CALLS, warmup: WARMUP })
      const viaClient = await timeEach(makeCall(client), { calls: CALLS, warmup: WARMUP })
      const key = label.split(' ')[0]!
      const p50Direct = percentile(direct, 50)
      const p50Client = percentile(viaClient, 50)
      rows.push({
        call: label,
        'direct p50 / p95 ms': `${round(p50Direct, 3)} / ${round(percentile(direct, 95), 3)}`,
        'client p50 / p95 ms': `${round(p50Client, 3)} / ${round(percentile(viaClient, 95), 3)}`,
        'overhead p50 ms': round(p50Client - p50Direct, 3),
      })
      figures[`${key}_direct_p50_ms`] = round(p50Direct, 3)
      figures[`${key}_client_p50_ms`] = round(p50Client, 3)
      figures[`${key}_client_p95_ms`] = round(percentile(viaClient, 95), 3)
    }
    return {
      name: 'zome-call-roundtrip',
      rows,
      figures,
      note: `${CALLS} calls one at a time after ${WARMUP} warm-up: in process on the embedded conductor vs @holochain/client 0.20.8 (signed call over a loopback WebSocket to the same conductor's Holochain API)`,
    }
  } finally {
    await client.close()
    await api.close()
    await embedded.close()
    await rm(dataDir, { recursive: true, force: true })
  }
}
