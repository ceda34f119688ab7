/**
 * The serving engine, on a generated ~104M-parameter F16 llama model (ChatML template), greedy, the
 * machine's cores as threads, the same file, threads, slots and messages on every path:
 * - decode rate and time to first token of a streamed `/v1/chat/completions` on the peer that has
 *   the model (one `ripple up` process), against llama-server called directly (the anchor, started
 *   here from the same build and backend folder);
 * - aggregate tokens/s with 1, 4 and 8 requests at once, through the peer and llama-server direct;
 * - a ten-turn agent loop that resends its growing conversation each turn: time to first token per
 *   turn with prompt reuse (the default) and without (llama-server direct, `cache_prompt: false`).
 * Paths alternate, so drift in the machine's load hits all alike. Run: `npm run bench engine`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { BENCH_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { isolatedNetwork, type RunningRipple } from '../tests/e2e/ripple-process.ts'
import {
  alternate,
  type ChatTurn,
  type Endpoint,
  endpointPath,
  type Path,
  passThrough,
  type Sample,
  startBenchPeer,
  startLlamaServer,
} from './chat-paths.ts'
import { median, ratio, round } from './measure.ts'
import type { BenchReport } from './report.ts'

const MODEL = 'bench-104m'
const CONTEXT_SIZE = 2048
const SLOTS = 8
const RUNS = 7
// The first token is a few ms against the machine's jitter of as much: more samples, fewer tokens each.
const TTFT_RUNS = 21
const TTFT_TOKENS = 8
const TOKENS = 128
const AGGREGATE_TOKENS = 48
const TURNS = 10
// Between requests, so the signed record one leaves behind is written before the next is timed.
const PAUSE_MS = 400
const MESSAGES: ChatTurn[] = [
  { role: 'user', content: 'The quick brown fox jumps over the lazy dog. '.repeat(3) },
]

/** `count` streamed requests at once; aggregate generated tokens per second of wall time. */
async function aggregate(path: Path, count: number): Promise<number> {
  const startedAt = performance.now()
  const samples = await Promise.all(Array.from({ length: count }, () => path.run(AGGREGATE_TOKENS)))
  const wall = performance.now() - startedAt
  return round((samples.reduce((sum, s) => sum + s.tokens, 0) * 1000) / wall)
}

/**
 * An agent loop: each turn resends the conversation so far plus a new user message; time to first
 * token per turn. `reuse: false` asks llama-server not to reuse its cached prompt.
 */
async function agentLoop(endpoint: Endpoint, model: string, reuse: boolean): Promise<number[]> {
  const conversation: ChatTurn[] = [...MESSAGES]
  const ttfts: number[] = []
  for (let turn = 0; turn < TURNS; turn++) {
    const startedAt = performance.now()
    let firstAt: number | null = null
    let text = ''
    const response = await fetch(`${endpoint.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        messages: conversation,
        max_tokens: 16,
        temperature: 0,
        seed: 1,
        stream: true,
        ...(reuse ? {} : { cache_prompt: false }),
      }),
    })
    if (!response.ok || !response.body) throw new Error(`agent loop: HTTP ${response.status}`)
    const decoder = new TextDecoder()
    for await (const chunk of response.body) {
      for (const line of decoder.decode(chunk, { stream: true }).split('\n')) {
        if (!line.startsWith('data: ') || line === 'data: [DONE]') continue
        const delta = (JSON.parse(line.slice(6)) as { choices?: { delta?: { content?: string } }[] })
          .choices?.[0]?.delta?.content
        if (delta) {
          firstAt ??= performance.now()
          text += delta
        }
      }
    }
    ttfts.push(round((firstAt ?? performance.now()) - startedAt))
    conversation.push(
      { role: 'assistant', content: text },
      { role: 'user', content: `Turn ${turn + 2}: go on, please.` },
    )
  }
  return ttfts
}

export default async function run(): Promise<BenchReport> {
  const threads = availableParallelism()
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-engine-'))
  const daemons: RunningRipple[] = []
  let server: Awaited<ReturnType<typeof startLlamaServer>> | null = null
  let pass: Awaited<ReturnType<typeof passThrough>> | null = null
  try {
    const modelsDir = join(root, 'models')
    await mkdir(modelsDir, { recursive: true })
    const modelPath = join(modelsDir, `${MODEL}.gguf`)
    await writeLlamaModel(modelPath, BENCH_MODEL)
    server = await startLlamaServer(modelPath, threads, SLOTS, CONTEXT_SIZE)
    const anchor: Endpoint = server
    const network = await isolatedNetwork(root, 'bench-engine')
    const peer = await startBenchPeer(root, network, 'peer', modelsDir, {
      threads,
      slots: SLOTS,
      contextSize: CONTEXT_SIZE,
    })
    daemons.push(peer.daemon)
    const viaServer = endpointPath('server', 'llama-server direct', anchor, MODEL, MESSAGES)
    const viaPeer = endpointPath('ripple', '/v1 on the peer with the model', peer, MODEL, MESSAGES)
    // Loads the model on the peer and warms both before anything is timed.
    await viaPeer.run(4)
    await viaServer.run(4)
    process.stderr.write('bench: llama-server and the peer ready\n')

    const [serverRuns, peerRuns] = await alternate([viaServer, viaPeer], TOKENS, RUNS, PAUSE_MS)
    pass = await passThrough(anchor)
    const viaPass = endpointPath('pass', 'bare Node pass-through', pass, MODEL, MESSAGES)
    await viaPass.run(4)
    const [serverFirst, passFirst, peerFirst] = await alternate(
      [viaServer, viaPass, viaPeer],
      TTFT_TOKENS,
      TTFT_RUNS,
      PAUSE_MS,
    )
    const rate = (samples: Sample[] = []) => round(median(samples.map((s) => s.tok_s)))
    const ttft = (samples: Sample[] = []) => round(median(samples.map((s) => s.ttft_ms)))
    const rows: Record<string, string | number>[] = []
    const figures: Record<string, number> = {}
    for (const [key, samples, first] of [
      ['llama_server', serverRuns, serverFirst],
      ['ripple_v1', peerRuns, peerFirst],
    ] as const) {
      figures[`${key}_decode_tok_s`] = rate(samples)
      figures[`${key}_ttft_ms`] = ttft(first)
    }
    figures.decode_ratio_vs_llama_server = ratio(rate(peerRuns), rate(serverRuns))
    rows.push(
      {
        figure: 'decode tok/s, 1 request',
        'llama-server': rate(serverRuns),
        'ripple /v1': rate(peerRuns),
        'ripple / llama-server': figures.decode_ratio_vs_llama_server as number,
      },
      {
        figure: 'time to first token, ms',
        'llama-server': ttft(serverFirst),
        'ripple /v1': ttft(peerFirst),
        'ripple / llama-server': ratio(ttft(peerFirst), ttft(serverFirst)),
      },
    )
    // What a request through the peer costs beyond the engine's own time, beside the floor of any
    // process in between (the agent talks to the daemon, the daemon to llama-server).
    figures.pass_through_ttft_ms = ttft(passFirst)
    figures.pass_through_ttft_ratio = ratio(ttft(passFirst), ttft(serverFirst))
    figures.ttft_overhead_ms = round(ttft(peerFirst) - ttft(serverFirst))
    figures.pass_through_overhead_ms = round(ttft(passFirst) - ttft(serverFirst))
    rows.push(
      {
        figure: 'time to first token, ms, through a bare Node pass-through (the floor of a hop)',
        'llama-server': ttft(passFirst),
        'ripple / llama-server': figures.pass_through_ttft_ratio,
      },
      {
        figure: 'ttft over llama-server, ms: ripple /v1 (bare pass-through)',
        'ripple /v1': `+${figures.ttft_overhead_ms} (+${figures.pass_through_overhead_ms})`,
      },
    )
    for (const count of [1, 4, 8]) {
      const serverRate = await aggregate(viaServer, count)
      const peerRate = await aggregate(viaPeer, count)
      figures[`aggregate_${count}_llama_server_tok_s`] = serverRate
      figures[`aggregate_${count}_ripple_tok_s`] = peerRate
      figures[`aggregate_${count}_ratio`] = ratio(peerRate, serverRate)
      rows.push({
        figure: `aggregate tok/s, ${count} at once`,
        'llama-server': serverRate,
        'ripple /v1': peerRate,
        'ripple / llama-server': ratio(peerRate, serverRate),
      })
    }
    const reused = await agentLoop(anchor, MODEL, true)
    const fresh = await agentLoop(anchor, MODEL, false)
    const throughPeer = await agentLoop(peer, MODEL, true)
    for (const [key, ttfts] of [
      ['reuse', reused],
      ['no_reuse', fresh],
      ['ripple', throughPeer],
    ] as const)
      for (const [turn, ms] of ttfts.entries()) figures[`agent_loop_${key}_turn_${turn + 1}_ttft_ms`] = ms
    rows.push(
      {
        figure: `agent loop, ttft ms per turn 1..${TURNS}, llama-server with reuse`,
        'llama-server': reused.join(' '),
      },
      { figure: 'agent loop, llama-server without reuse', 'llama-server': fresh.join(' ') },
      { figure: 'agent loop, ripple /v1 (reuse on)', 'ripple /v1': throughPeer.join(' ') },
    )
    return {
      name: 'engine',
      note:
        `${BENCH_MODEL.name}, ${threads} threads, ${SLOTS} slots, context ${CONTEXT_SIZE} per slot, greedy, ${TOKENS} tokens ` +
        `(${AGGREGATE_TOKENS} per request at once), median of ${RUNS} (first token: ${TTFT_RUNS} of ${TTFT_TOKENS} tokens), backend ${server.backend}; load ${loadavg()[0]?.toFixed(2)}`,
      rows,
      figures,
    }
  } finally {
    pass?.close()
    await server?.stop()
    for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGTERM')
    await Promise.all(daemons.map((d) => d.exited))
    await rm(root, { recursive: true, force: true })
  }
}
