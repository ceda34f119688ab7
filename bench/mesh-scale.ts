/**
 * The record at the mesh's scale: meshes of 3, 6 and 12 `ripple up` processes on loopback (one runner
 * with the tiny generated model loaded, one requester sending every request, the rest bystanders that
 * neither ask nor run), each peer `--threads 1`. After the mesh has settled (every peer sees the others
 * online, the model loaded on the runner, no op arriving for a while), a steady load of one-token chat
 * completions through the official `openai` client to the requester's /v1, a few at once; then, per
 * role and per request:
 * - CPU time of the daemon's own process (utime + stime from /proc/<pid>/stat: the runner's
 *   llama-server is a process of its own and is not counted), over the load and until its record has
 *   settled on every peer; and the same less what the peer burns idle over that time;
 * - store bytes: `page_count * page_size` of the peer's conductor.sqlite, read through a read-only
 *   connection (the WAL's committed pages included), before and after;
 * - signed actions on the peer's own chains (`ripple_chain_actions`, all DNAs) and ops of other
 *   agents it verified and stored (`ripple_ops_stored_total`), from /metrics;
 * - idle CPU % of each peer over 30 s with no load, before the load (10 s read a tick or two more or less);
 * - the CPU per request again over a second load of 1,000 after 2,000 more requests: a fresh daemon's
 *   first requests also pay V8 for compiling their paths, a daemon that has served a while does not.
 * Bystanders are reported as the median and the max over them. Run: `npm run bench mesh-scale`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import OpenAI from 'openai'
import { TINY_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { isolatedNetwork, type RunningRipple, runRipple } from '../tests/e2e/ripple-process.ts'
import { type Endpoint, startBenchPeer, waitForLoaded } from './chat-paths.ts'
import { metric, metrics, onlinePeers, storeBytes } from './daemon-store.ts'
import { median, ownCpuMs, round, sleep, waitFor } from './measure.ts'
import type { BenchReport } from './report.ts'

/** RIPPLE_BENCH_MESH_SIZES=3,6 runs fewer. */
const SIZES = (process.env.RIPPLE_BENCH_MESH_SIZES ?? '3,6,12').split(',').map(Number)
const REQUESTS = 200
const AT_ONCE = 4
const WARM_UP = 8
/** Requests between the first load and the warm one. */
const WARMER = 2000
/**
 * The warm load: longer than the first, so that what settling its record costs once (anti-entropy
 * rounds on every peer until no op moves) weighs less on each request.
 */
const WARM_REQUESTS = 1000
const IDLE_S = 30
const RECORD_SLOT_MS = 10_000
/** No op stored on any peer for this long: the mesh has settled. */
const QUIET_MS = 2500
const ENGINE = { threads: 1, slots: AT_ONCE, contextSize: 2048 }
const MODEL = 'tiny'
const MESSAGES = [{ role: 'user' as const, content: 'Say one word.' }]

type Role = 'runner' | 'requester' | 'bystander'

interface Peer extends Endpoint {
  name: string
  role: Role
  pid: number
  dataDir: string
  daemon: RunningRipple
}

interface Snapshot {
  cpuMs: number
  storeBytes: number
  actions: number
  opsStored: number
}

async function snapshot(peer: Peer): Promise<Snapshot> {
  const text = await metrics(peer)
  return {
    cpuMs: await ownCpuMs(peer.pid),
    storeBytes: storeBytes(peer.dataDir),
    actions: metric(text, 'ripple_chain_actions'),
    opsStored: metric(text, 'ripple_ops_stored_total'),
  }
}

const snapshots = (peers: readonly Peer[]) => Promise.all(peers.map(snapshot))

/** Waits until no peer has stored an op of another for QUIET_MS (at most `timeoutMs`). */
async function settle(peers: readonly Peer[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  let since = Date.now()
  while (Date.now() - since < QUIET_MS) {
    if (Date.now() > deadline) throw new Error('the mesh never settled')
    await sleep(250)
    const texts = await Promise.all(peers.map(metrics))
    const now = texts
      .map((t) => `${metric(t, 'ripple_ops_stored_total')}/${metric(t, 'ripple_replication_pending_ops')}`)
      .join(',')
    if (now !== last) {
      last = now
      since = Date.now()
    }
  }
}

interface Measured {
  role: Role
  cpuMsPerRequest: number
  netCpuMsPerRequest: number
  warmNetCpuMsPerRequest: number
  storeBytesPerRequest: number
  actionsPerRequest: number
  opsPerRequest: number
  idleCpuPct: number
}

async function mesh(
  size: number,
): Promise<{ rps: number; peers: Measured[]; startS: number; loadS: number; spanS: number }> {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-mesh-scale-'))
  const daemons: RunningRipple[] = []
  try {
    // Members sign their record every 10 s here (a network file's default is a minute): a load's record
    // is signed soon after its last request, and the mesh is still quiet between slots (settle).
    const network = await isolatedNetwork(root, `bench-mesh-${size}`, {
      record: { served_slot_ms: RECORD_SLOT_MS },
    })
    const runnerModels = join(root, 'runner-models')
    await mkdir(runnerModels, { recursive: true })
    await writeLlamaModel(join(runnerModels, `${MODEL}.gguf`), TINY_MODEL)
    const names = ['runner', 'requester', ...Array.from({ length: size - 2 }, (_, i) => `bystander${i + 1}`)]
    const startedAt = performance.now()
    // Started a few at a time: a dozen Node processes starting at once on two cores time each other out.
    const peers: Peer[] = []
    for (let i = 0; i < names.length; i += 4) {
      peers.push(
        ...(await Promise.all(
          names.slice(i, i + 4).map(async (name): Promise<Peer> => {
            const models = name === 'runner' ? runnerModels : join(root, `${name}-models`)
            const peer = await startBenchPeer(root, network, name, models, ENGINE)
            daemons.push(peer.daemon)
            const role: Role = name === 'runner' || name === 'requester' ? name : 'bystander'
            return { ...peer, name, role, pid: peer.daemon.child.pid ?? 0, dataDir: join(root, name) }
          }),
        )),
      )
    }
    const [runner, requester] = peers as [Peer, Peer]
    const loaded = await runRipple(['models', 'load', MODEL, '--data-dir', runner.dataDir], {
      timeoutMs: 120_000,
    })
    if (loaded.code !== 0) throw new Error(`models load failed: ${loaded.stderr}`)
    const openai = new OpenAI({ baseURL: `${requester.url}/v1`, apiKey: requester.token, maxRetries: 0 })
    await waitFor(
      'every peer to see the others online',
      async () => (await Promise.all(peers.map(metrics))).every((t) => onlinePeers(t) >= size - 1),
      180_000,
    )
    await waitForLoaded(openai, MODEL, 'the requester to see the model loaded on the runner')
    const oneToken = () =>
      openai.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 1, temperature: 0 })
    const recorded = async () => metric(await metrics(requester), 'ripple_direct_recorded_total')
    // Warm-up: the first answers page the model in and open the streams between the two.
    for (let i = 0; i < WARM_UP; i++) await oneToken()
    await waitFor('the warm-up recorded', async () => (await recorded()) >= WARM_UP, 30_000)
    await settle(peers, 120_000)
    const startS = round((performance.now() - startedAt) / 1000)
    process.stderr.write(`bench: ${size} peers up and settled in ${startS} s\n`)

    // Idle: no request, the peers' own background (heartbeats, gossip rounds) only.
    const idleBefore = await Promise.all(peers.map((p) => ownCpuMs(p.pid)))
    const idleFrom = performance.now()
    await sleep(IDLE_S * 1000)
    const idleAfter = await Promise.all(peers.map((p) => ownCpuMs(p.pid)))
    const idleMs = performance.now() - idleFrom
    const idleRate = idleAfter.map((ms, i) => (ms - idleBefore[i]!) / idleMs)

    const send = async (count: number) => {
      let next = 0
      await Promise.all(
        Array.from({ length: AT_ONCE }, async () => {
          while (next < count) {
            next += 1
            await oneToken()
          }
        }),
      )
    }
    // Requests, then their record: the requester counts a request recorded once its window is signed.
    const sendRecorded = async (count: number) => {
      const recordedBefore = await recorded()
      const sentFrom = performance.now()
      await send(count)
      const sentS = (performance.now() - sentFrom) / 1000
      await waitFor('the requests recorded', async () => (await recorded()) >= recordedBefore + count, 60_000)
      await settle(peers)
      return sentS
    }
    const load = async (requests: number) => {
      const before = await snapshots(peers)
      const loadFrom = performance.now()
      const loadS = await sendRecorded(requests)
      return { requests, before, after: await snapshots(peers), loadS, spanMs: performance.now() - loadFrom }
    }
    const cpuLessIdle = (measured: Awaited<ReturnType<typeof load>>, i: number) =>
      (measured.after[i]!.cpuMs - measured.before[i]!.cpuMs - idleRate[i]! * measured.spanMs) /
      measured.requests
    const cold = await load(REQUESTS)
    const { before, after, loadS, spanMs } = cold
    const rps = round(REQUESTS / loadS)
    process.stderr.write(`bench: ${size} peers, ${REQUESTS} requests at ${rps}/s\n`)
    // Then again on warm daemons: V8 compiles their hot paths over the first thousands of requests.
    await sendRecorded(WARMER)
    const warm = await load(WARM_REQUESTS)
    process.stderr.write(
      `bench: ${size} peers warm, ${WARM_REQUESTS} requests at ${round(WARM_REQUESTS / warm.loadS)}/s\n`,
    )
    return {
      rps,
      startS,
      loadS: round(loadS, 2),
      spanS: round(spanMs / 1000, 2),
      peers: peers.map((peer, i) => {
        const [b, a] = [before[i]!, after[i]!]
        const cpu = a.cpuMs - b.cpuMs
        return {
          role: peer.role,
          cpuMsPerRequest: cpu / REQUESTS,
          netCpuMsPerRequest: cpuLessIdle(cold, i),
          warmNetCpuMsPerRequest: cpuLessIdle(warm, i),
          storeBytesPerRequest: (a.storeBytes - b.storeBytes) / REQUESTS,
          actionsPerRequest: (a.actions - b.actions) / REQUESTS,
          opsPerRequest: (a.opsStored - b.opsStored) / REQUESTS,
          idleCpuPct: idleRate[i]! * 100,
        }
      }),
    }
  } finally {
    for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGTERM')
    await Promise.all(daemons.map((d) => d.exited))
    await rm(root, { recursive: true, force: true })
  }
}

/** One figure of a role: the value, or for bystanders "median (max)". */
function cell(values: readonly number[], digits: number): string | number {
  if (values.length === 1) return round(values[0]!, digits)
  return `${round(median(values), digits)} (max ${round(Math.max(...values), digits)})`
}

export default async function run(): Promise<BenchReport> {
  const rows: BenchReport['rows'] = []
  const figures: BenchReport['figures'] = { requests: REQUESTS, at_once: AT_ONCE }
  const skipped: string[] = []
  for (const size of SIZES) {
    let result: Awaited<ReturnType<typeof mesh>>
    try {
      result = await mesh(size)
    } catch (err) {
      // The 12-peer mesh is the heaviest thing this bench asks of a small machine: say so, go on.
      if (size === SIZES[0]) throw err
      skipped.push(`${size} peers: ${(err as Error).message.split('\n')[0]}`)
      rows.push({ peers: size, role: 'not measured', 'CPU ms/req': (err as Error).message.split('\n')[0]! })
      continue
    }
    figures[`peers_${size}_rps`] = result.rps
    figures[`peers_${size}_start_s`] = result.startS
    figures[`peers_${size}_load_s`] = result.loadS
    figures[`peers_${size}_load_and_settle_s`] = result.spanS
    for (const role of ['runner', 'requester', 'bystander'] as const) {
      const of = result.peers.filter((p) => p.role === role)
      const values = (key: keyof Omit<Measured, 'role'>) => of.map((p) => p[key])
      rows.push({
        peers: size,
        role: role === 'bystander' ? `bystander (x${of.length})` : role,
        'CPU ms/req': cell(values('cpuMsPerRequest'), 2),
        'CPU ms/req less idle': cell(values('netCpuMsPerRequest'), 2),
        'warm: CPU ms/req less idle': cell(values('warmNetCpuMsPerRequest'), 2),
        'store B/req': cell(values('storeBytesPerRequest'), 0),
        'own actions/req': cell(values('actionsPerRequest'), 3),
        'ops stored/req': cell(values('opsPerRequest'), 3),
        'idle CPU %': cell(values('idleCpuPct'), 1),
        'req/s': result.rps,
      })
      const key = `peers_${size}_${role}`
      for (const [name, k] of [
        ['cpu_ms_per_request', 'cpuMsPerRequest'],
        ['cpu_ms_per_request_less_idle', 'netCpuMsPerRequest'],
        ['warm_cpu_ms_per_request_less_idle', 'warmNetCpuMsPerRequest'],
        ['store_bytes_per_request', 'storeBytesPerRequest'],
        ['own_actions_per_request', 'actionsPerRequest'],
        ['ops_stored_per_request', 'opsPerRequest'],
        ['idle_cpu_pct', 'idleCpuPct'],
      ] as const) {
        const v = values(k)
        figures[`${key}_${name}${role === 'bystander' ? '_median' : ''}`] = round(median(v), 3)
        if (role === 'bystander') figures[`${key}_${name}_max`] = round(Math.max(...v), 3)
      }
    }
  }
  figures.load_average_1m = round(loadavg()[0] ?? 0)
  return {
    name: 'mesh-scale',
    rows,
    figures,
    note:
      `${SIZES.join(', ')} ripple up processes on loopback, one runner (tiny generated model, ${ENGINE.slots} slots, ` +
      `--threads 1), one requester, the rest bystanders; ${REQUESTS} one-token chat completions (official openai ` +
      `client, ${AT_ONCE} at once) to the requester's /v1 after the mesh settled; per request: CPU of the daemon's own ` +
      `process (/proc utime+stime; the runner's llama-server not counted) from the load's start until its record ` +
      `settled on every peer, and the same less the peer's idle rate over that span ("warm": the same over ${WARM_REQUESTS} ` +
      `requests after ${WARMER} more, once V8 has compiled the daemons' hot paths); store bytes = page_count*page_size ` +
      `of conductor.sqlite (WAL included; one 4 KiB page is ${round(4096 / REQUESTS)} B/req); own actions = ripple_chain_actions; ops stored = ripple_ops_stored_total; ` +
      `idle CPU % over ${IDLE_S} s before the load; bystanders: median (max). Every daemon, llama-server and this ` +
      `client share the machine's cores (${availableParallelism()} here), so CPU and req/s ` +
      `fall as the mesh grows for that reason too.${skipped.length > 0 ? ` Not measured: ${skipped.join('; ')}.` : ''}`,
  }
}
