/**
 * What a one-token request costs the two daemons that take part in it (issue 45): a requester and a
 * runner (`ripple up`, the tiny generated model on the runner, 8 slots, 1 thread) on loopback, 8
 * one-token chat completions at once through the official `openai` client to the requester's /v1.
 * Per daemon, CPU per request from /proc less what it burns idle (5 s with no load before): over the
 * first 500 requests of fresh daemons (cold: V8 is still compiling their paths on its helper
 * threads) and over 3,000 after 2,500 more (warm: a daemon that has served a while), with the main
 * thread's and the helper threads' shares. The anchor, in the same run: the runner's llama-server's
 * own CPU per request over the warm load. Run: `npm run bench request-cost`;
 * `bench/profile-requests.ts` runs the same with the V8 profiler or strace on.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { TINY_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { isolatedNetwork, runRipple } from '../tests/e2e/ripple-process.ts'
import { requestRate, startBenchPeer, waitForLoaded } from './chat-paths.ts'
import { inspector, type Profile } from './cpu-profile.ts'
import { ownCpuMs, ratio, round, sleep, threadCpuMs, treeCpuMs } from './measure.ts'
import type { BenchReport } from './report.ts'
import { type SyscallCount, syscallCounts } from './syscall-counts.ts'

const IDLE_MS = 5000
const COLD = 500
const MODEL = 'tiny'
const ENGINE = { threads: 1, slots: 8, contextSize: 2048 }
const MESSAGES = [{ role: 'user' as const, content: 'Say one word.' }]

export interface CostOptions {
  /** Requests in the warm load. */
  requests: number
  /** Requests between the cold ones and the warm load. */
  warmUp: number
  /** Requests in flight at once (default 8). */
  atOnce?: number
  /** One peer holding the model and asked directly (the request-rate bench's path). */
  onePeer?: boolean
  /** The V8 sampling profiler on in each daemon over the warm load. */
  profile?: boolean
  /** strace counting each daemon's system calls over the warm load. */
  trace?: boolean
}

export interface RoleCost {
  role: string
  /** ms of CPU a request over the warm load, then less idle, then the main thread's and the others'. */
  warm: number
  warmLessIdle: number
  mainThread: number
  helperThreads: number
  coldLessIdle: number
  profile?: Profile
  syscalls?: SyscallCount[]
}

export interface Cost {
  coldRps: number
  rps: number
  roles: RoleCost[]
  /** ms of CPU a request of the runner's engine (llama-server), over the warm load. */
  engine: number
}

export async function measureRequestCost(o: CostOptions): Promise<Cost> {
  const root = await mkdtemp(join(tmpdir(), 'ripple-request-cost-'))
  const daemons: Awaited<ReturnType<typeof startBenchPeer>>[] = []
  try {
    const network = await isolatedNetwork(root, 'request-cost')
    const models = join(root, 'runner-models')
    await mkdir(models, { recursive: true })
    await writeLlamaModel(join(models, `${MODEL}.gguf`), TINY_MODEL)
    if (o.profile) process.env.NODE_OPTIONS = '--inspect=127.0.0.1:0'
    try {
      daemons.push(await startBenchPeer(root, network, 'runner', models, ENGINE))
      if (!o.onePeer) daemons.push(await startBenchPeer(root, network, 'requester', join(root, 'm'), ENGINE))
    } finally {
      delete process.env.NODE_OPTIONS
    }
    const requester = daemons.at(-1)!
    const loaded = await runRipple(['models', 'load', MODEL, '--data-dir', join(root, 'runner')], {
      timeoutMs: 120_000,
    })
    if (loaded.code !== 0) throw new Error(`models load failed: ${loaded.stderr}`)
    const openai = new OpenAI({ baseURL: `${requester.url}/v1`, apiKey: requester.token, maxRetries: 0 })
    await waitForLoaded(openai, MODEL, 'the model loaded on the runner')
    const oneToken = () =>
      openai.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 1, temperature: 0 })
    const atOnce = o.atOnce ?? 8
    const pids = daemons.map((d) => d.daemon.child.pid ?? 0)
    const cpu = () => Promise.all(pids.map(ownCpuMs))
    const threads = () => Promise.all(pids.map(threadCpuMs))
    // The runner's descendants less itself: its llama-server.
    const engineCpu = async () => (await treeCpuMs(pids[0]!)) - (await ownCpuMs(pids[0]!))
    await sleep(3000)
    // What each burns idle (heartbeats, gossip), over IDLE_MS with no load: the figure is net of it.
    const idleFrom = await cpu()
    await sleep(IDLE_MS)
    const idleTo = await cpu()
    const idleRate = pids.map((_, i) => (idleTo[i]! - idleFrom[i]!) / IDLE_MS)
    const lessIdle = (i: number, used: number, spanMs: number, count: number) =>
      round((used - idleRate[i]! * spanMs) / count, 2)
    const coldFrom = await cpu()
    const coldStart = performance.now()
    const coldRps = await requestRate(oneToken, COLD, atOnce)
    const coldSpan = performance.now() - coldStart
    const coldTo = await cpu()
    await requestRate(oneToken, o.warmUp, atOnce)
    await sleep(3000)
    const sessions = o.profile ? await Promise.all(daemons.map((d) => inspector(d.daemon.stderr))) : []
    for (const { call } of sessions) {
      await call('Profiler.enable')
      await call('Profiler.setSamplingInterval', { interval: 200 })
      await call('Profiler.start')
    }
    const traces = o.trace ? pids.map(syscallCounts) : []
    await sleep(o.trace ? 1000 : 0)
    const [cpuBefore, threadsBefore, engineBefore] = [await cpu(), await threads(), await engineCpu()]
    const loadFrom = performance.now()
    const rps = await requestRate(oneToken, o.requests, atOnce)
    // And the second after it: the window's record.
    await sleep(1500)
    const [cpuAfter, threadsAfter, engineAfter] = [await cpu(), await threads(), await engineCpu()]
    const spanMs = performance.now() - loadFrom
    const counted = await Promise.all(traces.map((t) => t.stop()))
    const profiles = await Promise.all(
      sessions.map(async ({ call }) => ((await call('Profiler.stop')) as { profile: Profile }).profile),
    )
    for (const s of sessions) s.close()
    const each = (ms: number) => round(ms / o.requests, 2)
    return {
      coldRps: round(coldRps),
      rps: round(rps),
      engine: each(engineAfter - engineBefore),
      roles: pids.map((_, i) => ({
        role: o.onePeer ? 'peer (requester and runner)' : i === 0 ? 'runner' : 'requester',
        warm: each(cpuAfter[i]! - cpuBefore[i]!),
        warmLessIdle: lessIdle(i, cpuAfter[i]! - cpuBefore[i]!, spanMs, o.requests),
        mainThread: each(threadsAfter[i]!.main - threadsBefore[i]!.main),
        helperThreads: each(threadsAfter[i]!.helpers - threadsBefore[i]!.helpers),
        coldLessIdle: lessIdle(i, coldTo[i]! - coldFrom[i]!, coldSpan, COLD),
        ...(profiles[i] ? { profile: profiles[i] } : {}),
        ...(counted[i] ? { syscalls: counted[i] } : {}),
      })),
    }
  } finally {
    for (const d of daemons) if (d.daemon.child.exitCode === null) d.daemon.child.kill('SIGTERM')
    await Promise.all(daemons.map((d) => d.daemon.exited))
    await rm(root, { recursive: true, force: true })
  }
}

export default async function run(): Promise<BenchReport> {
  const requests = 3000
  const warmUp = 2500
  const cost = await measureRequestCost({ requests, warmUp })
  const figures: BenchReport['figures'] = {
    cold_rps: cost.coldRps,
    warm_rps: cost.rps,
    engine_cpu_ms_per_request: cost.engine,
  }
  for (const r of cost.roles) {
    figures[`${r.role}_cold_cpu_ms_per_request_less_idle`] = r.coldLessIdle
    figures[`${r.role}_warm_cpu_ms_per_request_less_idle`] = r.warmLessIdle
    figures[`${r.role}_warm_over_engine`] = ratio(r.warmLessIdle, cost.engine)
  }
  return {
    name: 'request-cost',
    rows: cost.roles.map((r) => ({
      daemon: r.role,
      [`cold: first ${COLD}, ms/req less idle`]: r.coldLessIdle,
      'warm: ms/req': r.warm,
      'warm: ms/req less idle': r.warmLessIdle,
      'warm: main thread': r.mainThread,
      "warm: V8's helper threads": r.helperThreads,
      "the engine's own ms/req": cost.engine,
      'warm / engine': ratio(r.warmLessIdle, cost.engine),
      'req/s cold / warm': `${cost.coldRps} / ${cost.rps}`,
    })),
    figures,
    note:
      `A requester and a runner (ripple up, tiny generated model, ${ENGINE.slots} slots, --threads 1) on loopback; ` +
      `one-token chat completions, 8 at once (official openai client), to the requester's /v1. CPU of each daemon's ` +
      `own process per request (/proc utime+stime), less its idle rate: cold over the first ${COLD} requests of fresh ` +
      `daemons, warm over ${requests} after ${warmUp} more (V8 compiles a daemon's hot paths over its first ` +
      `thousands of requests); the anchor: the runner's llama-server's own CPU per request over the warm load.`,
  }
}
