/**
 * The agent door's cost over the engine: a `/v1/chat/completions` request against llama-server called
 * directly (the anchor: same build, backend, file, threads and slots), on three `ripple up` processes
 * on loopback (the holder has the model; two others have none):
 * - time to first token of a streamed answer, and the wall time of a one-token request, on the
 *   holder and from another peer, routed straight to the runner (the default) and through the
 *   scheduling round (`ripple.route: "round"`, the path every request took before);
 * - signed actions per request, summed over the three peers' source chains (`ripple_chain_actions`);
 * - requests per second of one-token completions, 8 at once, through the mesh and on the engine.
 * Paths alternate, so drift in the machine's load hits all alike. Run: `npm run bench openai-endpoint`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { BENCH_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { isolatedNetwork, type RunningRipple } from '../tests/e2e/ripple-process.ts'
import {
  alternate,
  type Endpoint,
  endpointPath,
  requestRate,
  startBenchPeer,
  startLlamaServer,
} from './chat-paths.ts'
import { median, ratio, round, sleep, treeCpuMs } from './measure.ts'
import type { BenchReport } from './report.ts'

const MODEL = 'bench-104m'
const CONTEXT_SIZE = 2048
const SLOTS = 4
const RUNS = 15
const SHORT_RUNS = 15
const GENERATED_TOKENS = 48
const RECORDED_REQUESTS = 10
const BURST = 48
const PAUSE_MS = 400
const AT_ONCE = 8
const MESSAGES = [
  { role: 'user' as const, content: 'The quick brown fox jumps over the lazy dog. '.repeat(3) },
]
const ROUND = { ripple: { route: 'round' } }

async function metrics(peer: Endpoint): Promise<string> {
  return (await fetch(`${peer.url}/metrics`, { headers: { authorization: `Bearer ${peer.token}` } })).text()
}

/** Signed actions on every chain of these peers. */
async function chainActions(peers: readonly Endpoint[]): Promise<number> {
  let total = 0
  for (const peer of peers)
    for (const m of (await metrics(peer)).matchAll(/^ripple_chain_actions\{dna="\w+"\} (\d+)$/gm))
      total += Number(m[1])
  return total
}

async function counter(peer: Endpoint, name: string): Promise<number> {
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await metrics(peer))?.[1] ?? 0)
}

function client(peer: Endpoint): OpenAI {
  return new OpenAI({ baseURL: `${peer.url}/v1`, apiKey: peer.token, maxRetries: 0 })
}

const oneToken = (openai: OpenAI, extra: Record<string, unknown> = {}) =>
  openai.chat.completions.create({
    model: MODEL,
    messages: MESSAGES,
    max_tokens: 1,
    temperature: 0,
    ...extra,
  } as OpenAI.ChatCompletionCreateParamsNonStreaming)

/** `BURST` one-token requests, `AT_ONCE` in flight; requests per second. */
async function burst(openai: OpenAI, extra: Record<string, unknown> = {}): Promise<number> {
  return round(await requestRate(() => oneToken(openai, extra), BURST, AT_ONCE))
}

export default async function run(): Promise<BenchReport> {
  const threads = availableParallelism()
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-openai-'))
  const daemons: RunningRipple[] = []
  let server: Awaited<ReturnType<typeof startLlamaServer>> | null = null
  try {
    const modelsDir = join(root, 'holder-models')
    await mkdir(modelsDir, { recursive: true })
    const modelPath = join(modelsDir, `${MODEL}.gguf`)
    await writeLlamaModel(modelPath, BENCH_MODEL)
    server = await startLlamaServer(modelPath, threads, SLOTS, CONTEXT_SIZE)
    const network = await isolatedNetwork(root, 'bench-openai')
    const pids = new Map<string, number>()
    const start = async (name: string, models: string): Promise<Endpoint> => {
      const peer = await startBenchPeer(root, network, name, models, {
        threads,
        slots: SLOTS,
        contextSize: CONTEXT_SIZE,
      })
      daemons.push(peer.daemon)
      pids.set(name, peer.daemon.child.pid ?? 0)
      return peer
    }
    const [holder, other, third] = await Promise.all([
      start('holder', modelsDir),
      start('other', join(root, 'other-models')),
      start('third', join(root, 'third-models')),
    ])
    const peers = [holder!, other!, third!]
    // The others must see the holder's model before they can route to it.
    for (const deadline = Date.now() + 60_000; ; ) {
      if ((await client(other!).models.list()).data.some((m) => m.id === MODEL)) break
      if (Date.now() > deadline) throw new Error('the other peer never saw the model')
      await sleep(300)
    }
    process.stderr.write('bench: three peers up, the model seen, llama-server ready\n')
    const paths = [
      endpointPath('engine', 'llama-server direct (the engine)', server, MODEL, MESSAGES),
      endpointPath('local', '/v1 on the holder, straight to the runner', holder!, MODEL, MESSAGES),
      endpointPath('remote', '/v1 on another peer, straight to the runner', other!, MODEL, MESSAGES),
      endpointPath('local_round', '/v1 on the holder, scheduling round', holder!, MODEL, MESSAGES, ROUND),
      endpointPath('remote_round', '/v1 on another peer, scheduling round', other!, MODEL, MESSAGES, ROUND),
    ]
    // Warm-up: loads the model in the holder (its capability changes once) and pages in the weights.
    await alternate(paths, GENERATED_TOKENS, 1)
    await sleep(2000)
    // Each request on a quiet mesh: the round leaves claims and receipts in flight for a while.
    const long = await alternate(paths, GENERATED_TOKENS, RUNS, PAUSE_MS)
    const short = await alternate(paths, 1, SHORT_RUNS, PAUSE_MS)
    const rows: Record<string, string | number>[] = paths.map((path, i) => ({
      path: path.name,
      ttft_ms: round(median(long[i]!.map((s) => s.ttft_ms))),
      one_token_ms: round(median(short[i]!.map((s) => s.wall_ms))),
    }))
    const figures: Record<string, number> = { threads, slots: SLOTS }
    const [engine] = rows
    for (const [i, path] of paths.entries()) {
      const row = rows[i]!
      figures[`${path.key}_ttft_ms`] = row.ttft_ms as number
      figures[`${path.key}_one_token_ms`] = row.one_token_ms as number
      if (i === 0) continue
      row.ttft_over_engine_ms = round((row.ttft_ms as number) - (engine!.ttft_ms as number))
      row.one_token_over_engine_ms = round((row.one_token_ms as number) - (engine!.one_token_ms as number))
      figures[`${path.key}_ttft_over_engine_ms`] = row.ttft_over_engine_ms
      figures[`${path.key}_one_token_over_engine_ms`] = row.one_token_over_engine_ms
    }

    // Signed actions per request, on all three chains, routed straight and through the round.
    const asker = client(other!)
    for (const [key, extra] of [
      ['direct', {}],
      ['round', ROUND],
    ] as const) {
      await sleep(2000)
      const before = await chainActions(peers)
      const recorded = await counter(other!, 'ripple_direct_recorded_total')
      for (let i = 0; i < RECORDED_REQUESTS; i++) await oneToken(asker, extra)
      // The record follows the answer: wait for it (direct), and for late claims (round).
      for (const deadline = Date.now() + 30_000; key === 'direct' && Date.now() < deadline; ) {
        if ((await counter(other!, 'ripple_direct_recorded_total')) >= recorded + RECORDED_REQUESTS) break
        await sleep(100)
      }
      await sleep(2000)
      figures[`${key}_signed_actions_per_request`] = round(
        ((await chainActions(peers)) - before) / RECORDED_REQUESTS,
      )
    }
    rows.push({
      path: `signed actions per request (3 chains): direct ${figures.direct_signed_actions_per_request}, round ${figures.round_signed_actions_per_request}`,
    })

    // Throughput of one-token completions, 8 at once, with the CPU each process spent per request
    // (every process shares this machine's cores, so the mesh's own work is what it takes from them).
    const cpu = async () =>
      Promise.all(['holder', 'other', 'third'].map((name) => treeCpuMs(pids.get(name) ?? 0)))
    const perRequest = async (run: () => Promise<number>) => {
      const before = await cpu()
      const rps = await run()
      const after = await cpu()
      return { rps, cpu: after.map((ms, i) => round((ms - (before[i] ?? 0)) / BURST)) }
    }
    const engineRps = await burst(client(server))
    const { rps: meshRps, cpu: meshCpu } = await perRequest(() => burst(asker))
    const { rps: roundRps, cpu: roundCpu } = await perRequest(() => burst(asker, ROUND))
    for (const [key, ms] of [
      ['direct', meshCpu],
      ['round', roundCpu],
    ] as const) {
      figures[`${key}_cpu_ms_per_request_holder_with_engine`] = ms[0]!
      figures[`${key}_cpu_ms_per_request_asker`] = ms[1]!
      figures[`${key}_cpu_ms_per_request_bystander`] = ms[2]!
    }
    Object.assign(figures, {
      engine_one_token_rps: engineRps,
      mesh_direct_one_token_rps: meshRps,
      mesh_round_one_token_rps: roundRps,
      mesh_direct_to_engine_rps_ratio: ratio(meshRps, engineRps),
      mesh_round_to_engine_rps_ratio: ratio(roundRps, engineRps),
      load_average_1m: round(loadavg()[0] ?? 0),
    })
    rows.push({
      path: `CPU ms per one-token request, holder (with its llama-server) / asker / bystander: direct ${meshCpu.join(' / ')}, round ${roundCpu.join(' / ')}`,
    })
    rows.push({
      path: `one-token requests/s, ${AT_ONCE} at once: engine ${engineRps}, mesh direct ${meshRps} (${figures.mesh_direct_to_engine_rps_ratio}), mesh round ${roundRps} (${figures.mesh_round_to_engine_rps_ratio})`,
    })
    return {
      name: 'openai-endpoint',
      rows,
      figures,
      note:
        `${MODEL} (104M-param F16, random weights), ${threads} threads, ${SLOTS} slots, context ${CONTEXT_SIZE} per slot, ` +
        `greedy chat, ${GENERATED_TOKENS} tokens; median of ${RUNS} streamed requests per path after a warm-up ` +
        `(one_token_ms: ${SHORT_RUNS} one-token requests), paths alternating, ${PAUSE_MS} ms between requests; backend ${server.backend}; ` +
        `three ripple up processes on loopback, the model on one`,
    }
  } finally {
    await server?.stop()
    for (const daemon of daemons) if (daemon.child.exitCode === null) daemon.child.kill('SIGTERM')
    await Promise.all(daemons.map((daemon) => daemon.exited))
    await rm(root, { recursive: true, force: true })
  }
}
