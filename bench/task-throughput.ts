/**
 * Scheduling throughput and latency of `echo` tasks, every peer requester and worker:
 * - 5 `ripple up` processes on 127.0.0.1, through each daemon's API (POST /api/tasks, then its event
 *   stream): a burst and one at a time, as below (first, while this process is fresh);
 * - 5 embedded peers in this process (loopback, explicit dials, real replication and rules): a burst
 *   submitted at once spread over the peers; tasks one at a time (each submitted when the previous
 *   ended, peers in turn); then the same burst again with 10,000 finished tasks already stored on
 *   every peer (cost per op must not grow with history);
 * - one embedded peer alone (a mesh of one machine): the same burst and one at a time.
 * The rows one at a time start once every peer has seen the burst's tasks end: they measure one task
 * at a time, not the tail of the burst still being taken in.
 * Latency = submit -> accepted receipt as the requester sees it. Double executions: tasks whose worker
 * ran more than once (in process: counted in the worker; processes: more than one Result). Lost:
 * tasks not done by the timeout. Both must be 0. Run: `npm run bench task-throughput`.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { SubmitTaskBody } from '../host/api/contract/index.ts'
import { CONDUCTOR_DB_FILE, createEmbeddedConductor } from '../host/conductor/embedded/index.ts'
import {
  createEmbeddedPeer,
  type EmbeddedPeer,
  recordsAbout,
} from '../host/conductor/embedded/replication/index.ts'
import type { NetworkConfig } from '../host/config/network-schema.ts'
import { payloadBytes, payloadHash } from '../host/identity/payload-hash.ts'
import { silentLogger } from '../host/log/logger.ts'
import { PolicyService } from '../host/policy/policy-service.ts'
import { isTerminal, SchedulerService, type TaskOrder } from '../host/scheduler/scheduler-service.ts'
import { echoWorker } from '../host/workers/echo.ts'
import { WorkerRegistry } from '../host/workers/worker-registry.ts'
import { isolatedNetwork } from '../tests/e2e/ripple-process.ts'
import { NO_REQUIREMENTS, type NodeCapability, type Task } from '../zomes-bindings/index.ts'
import { type Daemon, startDaemon, stopDaemons } from './daemon-api.ts'
import { percentile, round, waitFor } from './measure.ts'
import type { BenchReport } from './report.ts'

const PEERS = 5
const BURST = 500
const SEQUENTIAL_TASKS = 50
const STORED_FINISHED = 10_000
const TIMEOUT_MS = 180_000
/** A stopped peer's peer store may still be taking a last write: retried rather than failing the run. */
const REMOVE = { recursive: true, force: true, maxRetries: 5 } as const

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
    memory: { shards_held: 0, capacity_bytes: 0 },
    tags: [],
    host_version: '0.0.0',
  }
}

/** An echo task's order and its input (kept by the requester, given to the assignee). */
function echoTask(id: string): [TaskOrder, unknown] {
  const order: TaskOrder = {
    kind: 'echo',
    requirements: NO_REQUIREMENTS,
    lease_ms: 30_000,
    deadline: (Date.now() + TIMEOUT_MS) * 1000,
    max_attempts: 3,
    fan_out: 1,
  }
  return [order, { message: id }]
}

/** The Task as the mesh holds it (its input's hash and size), for writing straight to a store. */
function storedTask(id: string): Task {
  const [order, input] = echoTask(id)
  return {
    ...order,
    input_hash: payloadHash(input),
    input_bytes: payloadBytes(input).length,
    input_cid: null,
  }
}

/** One way to submit a task and wait for its end: answers how it ended and how many Results it got. */
type SubmitAndWait = (peer: number, id: string) => Promise<{ status: string; results: number | null }>

interface Ended {
  ms: number
  status: string
  results: number | null
}

/** `count` tasks spread over the peers, all at once or each after the previous. */
async function measure(
  submitAndWait: SubmitAndWait,
  peers: number,
  mode: string,
  count: number,
  atOnce: boolean,
  runs: Map<string, number> | null,
) {
  const started = performance.now()
  const one = async (i: number): Promise<Ended> => {
    const submittedAt = performance.now()
    const end = await Promise.race([
      submitAndWait(i % peers, `${mode}-${i}`),
      new Promise<{ status: string; results: null }>((resolve) =>
        setTimeout(() => resolve({ status: 'lost', results: null }), TIMEOUT_MS).unref(),
      ),
    ])
    return { ms: performance.now() - submittedAt, ...end }
  }
  const ends: Ended[] = []
  if (atOnce) ends.push(...(await Promise.all(Array.from({ length: count }, (_, i) => one(i)))))
  else for (let i = 0; i < count; i++) ends.push(await one(i))
  const wallMs = performance.now() - started
  const done = ends.filter((e) => e.status === 'done')
  const sorted = done.map((e) => e.ms).sort((a, b) => a - b)
  const doubles =
    runs === null
      ? ends.filter((e) => (e.results ?? 0) > 1).length
      : [...runs].filter(([id, n]) => id.startsWith(`${mode}-`) && n > 1).length
  return {
    mode,
    peers,
    tasks: count,
    done: done.length,
    lost: count - done.length,
    wall_s: round(wallMs / 1000),
    tasks_per_s: round((done.length / wallMs) * 1000),
    p50_ms: Math.round(percentile(sorted, 50)),
    p95_ms: Math.round(percentile(sorted, 95)),
    max_ms: Math.round(sorted.at(-1) ?? Number.NaN),
    double_executions: doubles,
  }
}

interface Host {
  peer: EmbeddedPeer
  scheduler: SchedulerService
}

/**
 * A conductor store holding `count` finished tasks (submitted, then cancelled) of an agent of their
 * own, as if replicated from an old member of the mesh: each peer starts from a copy, so all hold the
 * same history without replaying it op by op. Answers the store file.
 */
async function storeOfFinishedTasks(dir: string, count: number): Promise<string> {
  const conductor = await createEmbeddedConductor({ dataDir: dir, network: NETWORK })
  try {
    for (let i = 0; i < count; i++) {
      const ref = await conductor.callZome('resource_mesh', 'submit_task', storedTask(`stored-${i}`))
      await conductor.callZome('resource_mesh', 'cancel_task', {
        task: ref.action_hash,
        reason: 'stored for the benchmark',
      })
    }
  } finally {
    await conductor.close()
  }
  return join(dir, CONDUCTOR_DB_FILE)
}

/** Rows measured in process, each printed as it comes (a long run that fails keeps what it measured). */
async function inProcess(history: string | null, peers = PEERS) {
  const label = peers === 1 ? 'one peer: ' : ''
  const dirs: string[] = []
  const hosts: Host[] = []
  /** Message id -> how many times a worker ran it, anywhere. */
  const runs = new Map<string, number>()
  try {
    for (let i = 0; i < peers; i++) {
      const dataDir = await mkdtemp(join(tmpdir(), 'ripple-bench-tasks-'))
      dirs.push(dataDir)
      if (history !== null) await copyFile(history, join(dataDir, CONDUCTOR_DB_FILE))
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
          peer.replication.onOpsStored((e) => e.dna === dna && listener(recordsAbout(e.dna, e.actions))),
        logger: silentLogger(),
      })
      hosts.push({ peer, scheduler })
    }
    // Gossip reaches a peer once every other has opened its gossip stream to it (its subscription
    // came that way); ops sent before go by anti-entropy, the slow way, which is not what this measures.
    await waitFor('a full mesh', () =>
      hosts.every(
        (h) =>
          h.peer.node.peers.list().length === peers - 1 &&
          h.peer.node.pubsub.subscribers('ops').length === peers - 1,
      ),
    )
    // Claimants pick who claims at once by rendezvous over the nodes they know: let them know all.
    await waitFor('every capability everywhere', async () => {
      const known = await Promise.all(
        hosts.map(
          async (h) => (await h.peer.conductor.callZome('agent_registry', 'list_nodes', null)).length,
        ),
      )
      return known.every((n) => n === peers)
    })
    for (const h of hosts) await h.scheduler.start()

    const submitAndWait: SubmitAndWait = async (i, id) => {
      const scheduler = hosts[i]!.scheduler
      const ref = await scheduler.submit(...echoTask(id))
      return new Promise((resolve) => {
        const unwatch = scheduler.watch(ref.action_hash, (event) => {
          if (event.type !== 'status' || !isTerminal(event.status)) return
          unwatch()
          resolve({ status: event.status, results: null })
        })
      })
    }
    if (history !== null) {
      return [
        await measure(submitAndWait, peers, `burst, ${STORED_FINISHED} finished stored`, BURST, true, runs),
      ]
    }
    const burst = await measure(submitAndWait, peers, `${label}burst`, BURST, true, runs)
    await waitFor(
      'every peer to see the burst end',
      async () => {
        const lists = await Promise.all(hosts.map((h) => h.scheduler.list()))
        return lists.every((tasks) => tasks.every((t) => isTerminal(t.status)))
      },
      TIMEOUT_MS,
    )
    const sequential = await measure(
      submitAndWait,
      peers,
      `${label}one at a time`,
      SEQUENTIAL_TASKS,
      false,
      runs,
    )
    return [burst, sequential]
  } finally {
    for (const h of hosts) await h.scheduler.stop()
    for (const h of [...hosts].reverse()) await h.peer.stop()
    await Promise.all(dirs.map((d) => rm(d, REMOVE)))
  }
}

async function processes() {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-task-processes-'))
  const networkFile = await isolatedNetwork(root, 'bench-task-processes')
  const daemons: Daemon[] = []
  try {
    for (let n = 0; n < PEERS; n++)
      daemons.push(await startDaemon(networkFile, join(root, `peer-${n}`), `p${n}`))
    await waitFor(
      `${PEERS} daemons to see each other online`,
      async () => {
        const views = await Promise.all(daemons.map((d) => d.api.peers()))
        return views.every((v) => v.peers.filter((p) => p.status === 'online').length === PEERS)
      },
      120_000,
    )
    const submitAndWait: SubmitAndWait = async (i, id) => {
      const daemon = daemons[i]!
      const body: SubmitTaskBody = { kind: 'echo', input: { message: id }, timeout_ms: TIMEOUT_MS }
      const ref = await daemon.api.submitTask(body)
      // The event stream ends with the task; its final view has the status and the results.
      const view = await daemon.api.followTask(ref.action_hash)
      const { status, results } = view.state
      return { status: isTerminal(status) ? status : 'lost', results: results.length }
    }
    const burst = await measure(submitAndWait, PEERS, 'processes: burst', BURST, true, null)
    await waitFor(
      'every daemon to see the burst end',
      async () => {
        const lists = await Promise.all(daemons.map((d) => d.api.listTasks()))
        return lists.every(({ tasks }) => tasks.every((t) => isTerminal(t.status)))
      },
      TIMEOUT_MS,
    )
    const sequential = await measure(
      submitAndWait,
      PEERS,
      'processes: one at a time',
      SEQUENTIAL_TASKS,
      false,
      null,
    )
    return [burst, sequential]
  } finally {
    await stopDaemons(daemons)
    await rm(root, REMOVE)
  }
}

type Row = Awaited<ReturnType<typeof measure>>

export default async function run(): Promise<BenchReport> {
  const rows: Row[] = []
  const keep = (measured: Row[]) => {
    for (const row of measured) console.log(JSON.stringify(row))
    rows.push(...measured)
    return measured
  }
  // First, while this process is fresh: after the in-process rows its heap is large, and the client's
  // own pauses showed in these rows (one at a time 50-58 ms p50, 46 ms run first; the daemons the same).
  const [pBurst, pSequential] = keep(await processes()) as [Row, Row]
  const [burst, sequential] = keep(await inProcess(null)) as [Row, Row]
  const historyDir = await mkdtemp(join(tmpdir(), 'ripple-bench-history-'))
  const storeStarted = performance.now()
  let storeS: number
  let stored: Row
  try {
    const history = await storeOfFinishedTasks(historyDir, STORED_FINISHED)
    storeS = round((performance.now() - storeStarted) / 1000)
    ;[stored] = keep(await inProcess(history)) as [Row]
  } finally {
    await rm(historyDir, REMOVE)
  }
  // A mesh of one machine: every task claimed, run and accepted by the peer that submitted it.
  const [oneBurst, oneSequential] = keep(await inProcess(null, 1)) as [Row, Row]
  return {
    name: 'task-throughput',
    rows,
    figures: {
      tasks_per_s: burst.tasks_per_s,
      p50_ms: burst.p50_ms,
      p95_ms: burst.p95_ms,
      one_at_a_time_p50_ms: sequential.p50_ms,
      one_at_a_time_p95_ms: sequential.p95_ms,
      stored_10k_tasks_per_s: stored.tasks_per_s,
      stored_10k_p95_ms: stored.p95_ms,
      processes_tasks_per_s: pBurst.tasks_per_s,
      processes_p95_ms: pBurst.p95_ms,
      processes_one_at_a_time_p50_ms: pSequential.p50_ms,
      processes_one_at_a_time_p95_ms: pSequential.p95_ms,
      one_peer_tasks_per_s: oneBurst.tasks_per_s,
      one_peer_one_at_a_time_p50_ms: oneSequential.p50_ms,
      one_peer_one_at_a_time_p95_ms: oneSequential.p95_ms,
      double_executions: rows.reduce((sum, r) => sum + r.double_executions, 0),
      lost: rows.reduce((sum, r) => sum + r.lost, 0),
    },
    note:
      `${PEERS} peers, each requester and echo worker, default scheduler timing (200 ms claim window). ` +
      `In process: embedded peers on 127.0.0.1 (explicit dials, gossip + anti-entropy, rules wasm); ` +
      `burst: ${BURST} echo tasks submitted at once, spread over the peers; one at a time: ` +
      `${SEQUENTIAL_TASKS} tasks, each submitted when the previous ended, peers in turn, once every ` +
      'peer saw the burst end; then ' +
      `a fresh mesh whose peers start holding ${STORED_FINISHED} finished tasks (submitted and cancelled ` +
      `by another agent, ${storeS} s to write, each peer starting from a copy of that store) and the ` +
      'burst again. Processes (run first, while this process is fresh): `ripple up` daemons on ' +
      '127.0.0.1 through their APIs (POST /api/tasks, then the task event stream). One peer: a single embedded peer, ' +
      'the same burst and one at a time. Latency = submit -> accepted receipt ' +
      'seen by the requester; double executions: tasks run more than once; lost: not done in time.',
  }
}
