/**
 * Scheduling throughput across 5 embedded peers in this process (loopback, explicit dials, real
 * replication and rules): every peer is requester and worker; each submits its share of `echo` tasks
 * at once. Measures tasks/s from the first submit to the last accepted receipt, submit -> receipt
 * latency per task (as its requester sees the receipt), and double executions: a task whose worker
 * ran more than once anywhere (must be 0). Run: `npm run bench task-throughput`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import {
  createEmbeddedPeer,
  type EmbeddedPeer,
  recordsAbout,
} from '../host/conductor/embedded/replication/index.ts'
import type { NetworkConfig } from '../host/config/network-config.ts'
import { silentLogger } from '../host/log/logger.ts'
import { PolicyService } from '../host/policy/policy-service.ts'
import { isTerminal, SchedulerService } from '../host/scheduler/scheduler-service.ts'
import { echoWorker } from '../host/workers/echo.ts'
import { WorkerRegistry } from '../host/workers/worker-registry.ts'
import type { NodeCapability, Task } from '../zomes-bindings/index.ts'
import { percentile, round, waitFor } from './measure.ts'
import type { BenchReport } from './report.ts'

const PEERS = 5
const TASKS_PER_PEER = 20
const SEQUENTIAL_TASKS = 20
const TIMEOUT_MS = 120_000

const NETWORK: NetworkConfig = {
  name: 'bench-tasks',
  seed: `bench-task-throughput-${process.pid}`,
  backend: 'embedded',
  dna_properties: { policy_store: { progenitor: null } },
  heartbeat: { interval_ms: 2000, stale_after_missed: 3, offline_after_ms: 30_000 },
  libp2p: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], psk: null },
}

function capabilityOf(name: string): NodeCapability {
  return {
    name,
    hardware: {
      cpu: { model: 'bench', cores: 2, threads: 2, arch: 'x64', speed_ghz: 0 },
      ram_bytes: 4 * 1024 ** 3,
      gpus: [],
      disk_free_bytes: 1024 ** 3,
      os: { platform: 'linux', distro: '', release: '', kernel: '' },
    },
    inference: { models: [], tokens_per_second: null },
    storage: { ipfs_free_bytes: 0, pinned_bytes: 0 },
    memory: { shards_held: 0 },
    tags: [],
    host_version: '0.0.0',
  }
}

function echoTask(id: string): Task {
  return {
    kind: 'echo',
    input: { message: id },
    input_cid: null,
    requirements: { min_ram_bytes: 0, min_vram_bytes: 0, gpu: false, min_cores: 0, model: null, tags: [] },
    lease_ms: 30_000,
    deadline: (Date.now() + TIMEOUT_MS) * 1000,
    max_attempts: 3,
    fan_out: 1,
  }
}

interface Host {
  peer: EmbeddedPeer
  scheduler: SchedulerService
}

/** Submits and waits for one task; answers its latency and how it ended. */
async function submitAndWait(host: Host, id: string): Promise<{ ms: number; status: string }> {
  const submittedAt = performance.now()
  const ref = await host.scheduler.submit(echoTask(id))
  return new Promise((resolve) => {
    const unwatch = host.scheduler.watch(ref.action_hash, (event) => {
      if (event.type !== 'status' || !isTerminal(event.status)) return
      unwatch()
      resolve({ ms: performance.now() - submittedAt, status: event.status })
    })
  })
}

/** `count` tasks spread over the peers, all at once or each after the previous. */
async function measure(
  hosts: Host[],
  mode: string,
  count: number,
  atOnce: boolean,
  runs: Map<string, number>,
) {
  const started = performance.now()
  const ends: { ms: number; status: string }[] = []
  const one = (i: number) => submitAndWait(hosts[i % hosts.length]!, `${mode}-${i}`)
  if (atOnce) ends.push(...(await Promise.all(Array.from({ length: count }, (_, i) => one(i)))))
  else for (let i = 0; i < count; i++) ends.push(await one(i))
  const wallMs = performance.now() - started
  const done = ends.filter((e) => e.status === 'done').length
  const sorted = ends.map((e) => e.ms).sort((a, b) => a - b)
  return {
    mode,
    peers: hosts.length,
    tasks: count,
    done,
    wall_s: round(wallMs / 1000),
    tasks_per_s: round((done / wallMs) * 1000),
    p50_ms: Math.round(percentile(sorted, 50)),
    p95_ms: Math.round(percentile(sorted, 95)),
    max_ms: Math.round(sorted.at(-1) ?? Number.NaN),
    double_executions: [...runs].filter(([id, n]) => id.startsWith(`${mode}-`) && n > 1).length,
  }
}

export default async function run(): Promise<BenchReport> {
  const dirs: string[] = []
  const hosts: Host[] = []
  /** Message id -> how many times a worker ran it, anywhere. */
  const runs = new Map<string, number>()
  try {
    for (let i = 0; i < PEERS; i++) {
      const dataDir = await mkdtemp(join(tmpdir(), 'ripple-bench-tasks-'))
      dirs.push(dataDir)
      const peer = await createEmbeddedPeer({
        dataDir,
        network: NETWORK,
        listen: ['/ip4/127.0.0.1/tcp/0'],
        peers: hosts.flatMap((h) => h.peer.node.multiaddrs().map(String)),
        loopbackTuning: true,
        replication: { intervalMs: 1000 },
      })
      const capability = capabilityOf(`bench-${i}`)
      await peer.conductor.callZome('agent_registry', 'advertise_capability', capability)
      const workers = new WorkerRegistry()
      workers.register({
        ...echoWorker,
        run: (input, ctx) => {
          const id = String((input as { message: unknown }).message)
          runs.set(id, (runs.get(id) ?? 0) + 1)
          return echoWorker.run(input as never, ctx)
        },
      })
      const scheduler = new SchedulerService({
        conductor: peer.conductor,
        workers,
        policies: new PolicyService({ conductor: peer.conductor, logger: silentLogger() }),
        capability: () => capability,
        onRecordsStored: (dna, listener) =>
          peer.replication.onOpsStored((e) => e.dna === dna && listener(recordsAbout(e.actions))),
        logger: silentLogger(),
      })
      hosts.push({ peer, scheduler })
    }
    await waitFor('a full mesh', () => hosts.every((h) => h.peer.node.peers.list().length === PEERS - 1))
    // Claimants pick who claims at once by rendezvous over the nodes they know: let them know all.
    const known = new Map<Host, number>()
    const countNodes = () =>
      Promise.all(
        hosts.map(async (h) =>
          known.set(h, (await h.peer.conductor.callZome('agent_registry', 'list_nodes', null)).length),
        ),
      )
    await waitFor('every capability everywhere', () => {
      void countNodes()
      return hosts.every((h) => known.get(h) === PEERS)
    })
    for (const h of hosts) await h.scheduler.start()

    const burst = await measure(hosts, 'burst', PEERS * TASKS_PER_PEER, true, runs)
    const sequential = await measure(hosts, 'one at a time', SEQUENTIAL_TASKS, false, runs)
    const doubles = burst.double_executions + sequential.double_executions
    return {
      name: 'task-throughput',
      rows: [burst, sequential],
      figures: {
        tasks_per_s: burst.tasks_per_s,
        p50_ms: burst.p50_ms,
        p95_ms: burst.p95_ms,
        done_pct: round((100 * burst.done) / burst.tasks),
        one_at_a_time_p50_ms: sequential.p50_ms,
        one_at_a_time_p95_ms: sequential.p95_ms,
        double_executions: doubles,
      },
      note:
        `${PEERS} embedded peers in one process on 127.0.0.1 (explicit dials, gossip + anti-entropy, rules wasm), ` +
        `each requester and echo worker. burst: ${TASKS_PER_PEER} echo tasks submitted at once on every peer; ` +
        `one at a time: ${SEQUENTIAL_TASKS} tasks, each submitted when the previous ended, peers in turn. ` +
        'Latency = submit -> accepted receipt seen by the requester; default scheduler timing ' +
        '(200 ms claim window, 300 ms poll); double executions count tasks whose worker ran more than once.',
    }
  } finally {
    for (const h of hosts) await h.scheduler.stop()
    for (const h of [...hosts].reverse()) await h.peer.stop()
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  }
}
