/**
 * Requests per second of one-token chat completions, 8 clients at once, on one peer with the model
 * (`ripple up`, 8 slots): against llama-server called directly (the anchor: same build, backend, file,
 * threads and slots), and a bare Node pass-through in front of llama-server (the floor any process in
 * between costs). Bursts alternate between the three paths, so drift in the machine's load hits all
 * alike; each path's figure is the median of its bursts, with the daemon's own CPU per request (its
 * llama-server not counted). Run: `npm run bench request-rate`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { BENCH_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { isolatedNetwork, type RunningRipple } from '../tests/e2e/ripple-process.ts'
import { type Endpoint, passThrough, requestRate, startBenchPeer, startLlamaServer } from './chat-paths.ts'
import { median, ownCpuMs, ratio, round } from './measure.ts'
import type { BenchReport } from './report.ts'

const MODEL = 'bench-104m'
const CONTEXT_SIZE = 2048
const SLOTS = 8
const AT_ONCE = 8
const BURST = 96
const BURSTS = 5
const MESSAGES = [{ role: 'user' as const, content: 'Say one word.' }]

/** `BURST` one-token requests, `AT_ONCE` in flight; requests per second. */
function burst(endpoint: Endpoint): Promise<number> {
  const openai = new OpenAI({ baseURL: `${endpoint.url}/v1`, apiKey: endpoint.token, maxRetries: 0 })
  const oneToken = () =>
    openai.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 1, temperature: 0 })
  return requestRate(oneToken, BURST, AT_ONCE)
}

export default async function run(): Promise<BenchReport> {
  const threads = availableParallelism()
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-rate-'))
  let daemon: RunningRipple | null = null
  let server: Awaited<ReturnType<typeof startLlamaServer>> | null = null
  let pipe: Awaited<ReturnType<typeof passThrough>> | null = null
  try {
    const modelsDir = join(root, 'models')
    const modelPath = join(modelsDir, `${MODEL}.gguf`)
    const engine = { threads, slots: SLOTS, contextSize: CONTEXT_SIZE }
    await mkdir(modelsDir, { recursive: true })
    await writeLlamaModel(modelPath, BENCH_MODEL)
    const network = await isolatedNetwork(root, 'bench-rate')
    const peer = await startBenchPeer(root, network, 'holder', modelsDir, engine)
    daemon = peer.daemon
    server = await startLlamaServer(modelPath, threads, SLOTS, CONTEXT_SIZE)
    pipe = await passThrough(server)
    const paths = [
      { key: 'engine', name: 'llama-server direct (the anchor)', endpoint: server as Endpoint },
      { key: 'pass_through', name: 'a bare Node pass-through to llama-server', endpoint: pipe as Endpoint },
      { key: 'ripple', name: "Ripple's /v1 on the peer with the model", endpoint: peer as Endpoint },
    ]
    // Warm-up: the model found and loaded by the daemon, the weights paged in.
    for (const path of paths) await burst(path.endpoint)
    const rates = paths.map(() => [] as number[])
    const daemonCpu: number[] = []
    for (let b = 0; b < BURSTS; b++)
      for (const [i, path] of paths.entries()) {
        const before = await ownCpuMs(daemon.child.pid ?? 0)
        rates[i]!.push(await burst(path.endpoint))
        if (path.key === 'ripple') daemonCpu.push(((await ownCpuMs(daemon.child.pid ?? 0)) - before) / BURST)
      }
    const rps = rates.map((r) => round(median(r)))
    const figures: Record<string, number> = { threads, slots: SLOTS, at_once: AT_ONCE }
    const rows = paths.map((path, i) => {
      figures[`${path.key}_rps`] = rps[i]!
      figures[`${path.key}_to_engine`] = ratio(rps[i]!, rps[0]!)
      return {
        path: path.name,
        'requests/s (median)': rps[i]!,
        'of llama-server': ratio(rps[i]!, rps[0]!),
        bursts: rates[i]!.map((r) => round(r)).join(', '),
      }
    })
    figures.ripple_daemon_cpu_ms_per_request = round(median(daemonCpu), 2)
    figures.load_average_1m = round(loadavg()[0] ?? 0)
    return {
      name: 'request-rate',
      rows,
      figures,
      note:
        `${MODEL} (104M-param F16, random weights), ${threads} threads, ${SLOTS} slots, context ${CONTEXT_SIZE} per slot; ` +
        `${BURSTS} bursts per path of ${BURST} one-token chat completions (official openai client), ${AT_ONCE} at once, ` +
        `paths alternating; the daemon's own CPU per request (its llama-server apart): ${figures.ripple_daemon_cpu_ms_per_request} ms; ` +
        `backend ${server.backend}; load average ${figures.load_average_1m}`,
    }
  } finally {
    pipe?.close()
    await server?.stop()
    if (daemon && daemon.child.exitCode === null) daemon.child.kill('SIGTERM')
    await rm(root, { recursive: true, force: true })
  }
}
