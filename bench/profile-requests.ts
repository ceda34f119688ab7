/**
 * Where a one-token request's CPU goes, by function: a requester and a runner (`ripple up`, the tiny
 * generated model on the runner) on loopback, each started with the inspector on. The first 500
 * requests are timed cold (CPU per request from /proc, less idle); after a warm-up of 2,500 more,
 * the V8 sampling profiler runs in both over a load of one-token chat completions to the requester's
 * /v1 (8 at once) and the second after it (the window's record), and the top functions by self time
 * are printed per process with the CPU per request read from /proc, the same less what the process
 * burns idle (measured over 5 s with no load before it), and the main thread's and V8's helper
 * threads' shares. PROFILE_PEERS=1 profiles one peer
 * holding the model and asked directly (the request-rate bench's path); PROFILE_CPU=0 runs no profiler,
 * for the rate and the CPU per request alone (A/B runs: the profiler costs both sides CPU of its own);
 * PROFILE_SYSCALLS=1 counts each process's system calls over the load with strace (`strace -c`).
 * Not a benchmark `npm run bench` runs: `npx tsx bench/profile-requests.ts [requests] [top]`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { TINY_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { isolatedNetwork, runRipple } from '../tests/e2e/ripple-process.ts'
import { requestRate, startBenchPeer } from './chat-paths.ts'
import { inspector, type Profile, printTop } from './cpu-profile.ts'
import { ownCpuMs, round, sleep, threadCpuMs, waitFor } from './measure.ts'
import { perRequest, syscallCounts } from './syscall-counts.ts'

const REQUESTS = Number(process.argv[2] ?? 400)
const TOP = Number(process.argv[3] ?? 15)
const ONE_PEER = process.env.PROFILE_PEERS === '1'
const PROFILING = process.env.PROFILE_CPU !== '0'
const TRACING = process.env.PROFILE_SYSCALLS === '1'
const IDLE_MS = 5000
/** Requests timed cold, on fresh daemons, before the warm-up. */
const COLD = 500
/**
 * Requests before the profiled ones: V8 compiles a daemon's hot paths over its first thousands of
 * requests (on its helper threads), and a daemon serves for days; PROFILE_WARM_UP sets another.
 */
const WARM_UP = Number(process.env.PROFILE_WARM_UP ?? 2500)
const MODEL = 'tiny'
const ENGINE = { threads: 1, slots: 8, contextSize: 2048 }
const MESSAGES = [{ role: 'user' as const, content: 'Say one word.' }]

const root = await mkdtemp(join(tmpdir(), 'ripple-profile-'))
const daemons: Awaited<ReturnType<typeof startBenchPeer>>[] = []
try {
  const network = await isolatedNetwork(root, 'profile')
  const models = join(root, 'runner-models')
  await mkdir(models, { recursive: true })
  await writeLlamaModel(join(models, `${MODEL}.gguf`), TINY_MODEL)
  if (PROFILING) process.env.NODE_OPTIONS = '--inspect=127.0.0.1:0'
  const runner = await startBenchPeer(root, network, 'runner', models, ENGINE)
  daemons.push(runner)
  const requester = ONE_PEER
    ? runner
    : await startBenchPeer(root, network, 'requester', join(root, 'm'), ENGINE)
  if (!ONE_PEER) daemons.push(requester)
  delete process.env.NODE_OPTIONS
  const loaded = await runRipple(['models', 'load', MODEL, '--data-dir', join(root, 'runner')], {
    timeoutMs: 120_000,
  })
  if (loaded.code !== 0) throw new Error(`models load failed: ${loaded.stderr}`)
  const openai = new OpenAI({ baseURL: `${requester.url}/v1`, apiKey: requester.token, maxRetries: 0 })
  await waitFor(
    'the model loaded on the runner',
    async () => {
      const m = (await openai.models.list()).data.find((x) => x.id === MODEL) as
        | { ripple?: { loaded_on: string[] } }
        | undefined
      return (m?.ripple?.loaded_on.length ?? 0) > 0
    },
    120_000,
  )
  const oneToken = () =>
    openai.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 1, temperature: 0 })
  const cpu = () => Promise.all(daemons.map((d) => ownCpuMs(d.daemon.child.pid ?? 0)))
  const threads = () => Promise.all(daemons.map((d) => threadCpuMs(d.daemon.child.pid ?? 0)))
  await sleep(3000)
  // What each burns idle (heartbeats, gossip), over IDLE_MS with no load: the figure is net of it.
  const idleFrom = await cpu()
  await sleep(IDLE_MS)
  const idleTo = await cpu()
  const idleMsPerMs = daemons.map((_, i) => (idleTo[i]! - idleFrom[i]!) / IDLE_MS)
  const lessIdle = (i: number, used: number, spanMs: number, count: number) =>
    round((used - idleMsPerMs[i]! * spanMs) / count, 2)
  // Cold: the first requests a fresh daemon serves, while V8 still compiles their paths.
  const coldFrom = await cpu()
  const coldStart = performance.now()
  await requestRate(oneToken, COLD, 8)
  const coldSpan = performance.now() - coldStart
  const coldTo = await cpu()
  await requestRate(oneToken, WARM_UP, 8)
  await sleep(3000)
  const sessions = PROFILING ? await Promise.all(daemons.map((d) => inspector(d.daemon.stderr))) : []
  for (const { call } of sessions) {
    await call('Profiler.enable')
    await call('Profiler.setSamplingInterval', { interval: 200 })
    await call('Profiler.start')
  }
  const traces = TRACING ? daemons.map((d) => syscallCounts(d.daemon.child.pid ?? 0)) : []
  await sleep(TRACING ? 1000 : 0)
  const cpuBefore = await cpu()
  const threadsBefore = await threads()
  const loadFrom = performance.now()
  const rps = await requestRate(oneToken, REQUESTS, 8)
  await sleep(1500)
  const cpuAfter = await cpu()
  const threadsAfter = await threads()
  const spanMs = performance.now() - loadFrom
  const counted = await Promise.all(traces.map((t) => t.stop()))
  const profiles = await Promise.all(
    sessions.map(async ({ call }) => ((await call('Profiler.stop')) as { profile: Profile }).profile),
  )
  for (const s of sessions) s.close()
  console.log(
    `${REQUESTS} one-token requests, 8 at once, after ${COLD + WARM_UP} to warm up: ${round(rps)}/s`,
  )
  for (const i of daemons.keys()) {
    const role = ONE_PEER ? 'peer (requester and runner)' : i === 0 ? 'runner' : 'requester'
    const used = cpuAfter[i]! - cpuBefore[i]!
    const each = (ms: number) => round(ms / REQUESTS, 2)
    const cpu =
      `${role}: ${each(used)} ms CPU/request (/proc), ${lessIdle(i, used, spanMs, REQUESTS)} less idle ` +
      `(main thread ${each(threadsAfter[i]!.main - threadsBefore[i]!.main)}, V8's helper threads ` +
      `${each(threadsAfter[i]!.helpers - threadsBefore[i]!.helpers)}); its first ${COLD} requests, ` +
      `cold: ${lessIdle(i, coldTo[i]! - coldFrom[i]!, coldSpan, COLD)} less idle`
    const profile = profiles[i]
    if (profile) printTop(`${cpu}; per request`, profile, REQUESTS, TOP)
    else console.log(cpu)
    if (counted[i]) console.log(`system calls per request:\n${perRequest(counted[i], REQUESTS)}`)
  }
} finally {
  for (const d of daemons) if (d.daemon.child.exitCode === null) d.daemon.child.kill('SIGTERM')
  await Promise.all(daemons.map((d) => d.daemon.exited))
  await rm(root, { recursive: true, force: true })
}
