/**
 * The agent door across the internet, in the NAT lab (tests/net/nat-lab.ts; root, `ip` and `nft`):
 * two homes behind their own NATs (`masquerade random`: WebRTC cannot get through), joined through
 * a `ripple relay`. home1 holds the tiny model, loaded; an agent in home2 asks its own peer. Time to
 * first token of a streamed `/v1/chat/completions`, routed straight to the runner (one round trip
 * through the relay, then the tokens) against the scheduling round (`ripple.route: "round"`: the task
 * out, a claim back, the assignment out, then the tokens), alternating. Run:
 * `sudo npm run bench nat-ttft`.
 */
import { performance } from 'node:perf_hooks'
import OpenAI from 'openai'
import { LabMesh, relayedLink } from '../tests/net/lab-mesh.ts'
import { natLabUnavailable } from '../tests/net/nat-lab.ts'
import { labApi } from './lab-api.ts'
import { median, round } from './measure.ts'
import type { BenchReport } from './report.ts'

const RUNS = 9
const ask = [{ role: 'user' as const, content: 'Tell me about the mesh.' }]

async function ttft(openai: OpenAI, route: 'direct' | 'round'): Promise<number> {
  const startedAt = performance.now()
  const stream = await openai.chat.completions.create({
    model: 'tiny',
    messages: ask,
    max_tokens: 8,
    temperature: 0,
    stream: true,
    ripple: { route },
  } as OpenAI.ChatCompletionCreateParamsStreaming)
  let first: number | null = null
  for await (const chunk of stream) if (chunk.choices[0]?.delta.content) first ??= performance.now()
  return (first ?? performance.now()) - startedAt
}

export default async function run(): Promise<BenchReport> {
  const unavailable = await natLabUnavailable()
  if (unavailable !== null)
    return { name: 'nat-ttft', note: `not measured: ${unavailable}`, rows: [], figures: {} }
  const mesh = await LabMesh.start({ homes: 2, nat: 'random' })
  try {
    await Promise.all([mesh.startPeer(1, true), mesh.startPeer(2, false)])
    const [home1, home2] = mesh.peers
    await mesh.waitForPeer(home2!, home1!, relayedLink)
    const load = await mesh.cli(home1!, ['models', 'load', 'tiny'])
    if (load.code !== 0) throw new Error(`home1 could not load the model: ${load.stderr}`)
    await mesh.waitForPeer(
      home2!,
      home1!,
      (p) => p.capability?.inference.models.some((m) => m.loaded) === true,
    )
    const api = await labApi(mesh, home2!)
    const openai = new OpenAI({
      baseURL: `${api.url}/v1`,
      apiKey: api.token,
      fetch: api.fetch,
      maxRetries: 0,
    })
    // Warm-up: the relayed streams open, the model's prompt cache fills.
    await ttft(openai, 'direct')
    await ttft(openai, 'round')
    const samples = { direct: [] as number[], round: [] as number[] }
    for (let i = 0; i < RUNS; i++) {
      samples.direct.push(await ttft(openai, 'direct'))
      samples.round.push(await ttft(openai, 'round'))
    }
    const direct = round(median(samples.direct))
    const scheduled = round(median(samples.round))
    return {
      name: 'nat-ttft',
      note:
        `two homes behind random-port NATs, relayed; tiny model loaded in home1, asked from home2; median of ${RUNS} ` +
        'streamed requests per route, alternating; no delay is added to the lab links (this kernel has no netem), ' +
        'so the gap is the work of the trips the round adds, not their latency',
      rows: [
        { route: 'straight to the runner (default)', ttft_ms: direct },
        { route: 'scheduling round (before)', ttft_ms: scheduled },
      ],
      figures: {
        direct_ttft_ms: direct,
        round_ttft_ms: scheduled,
        round_minus_direct_ms: round(scheduled - direct),
      },
    }
  } finally {
    await mesh.stop()
  }
}
