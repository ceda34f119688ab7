/**
 * One coding agent's turn with a ~20k-token prompt (issue 42): a Claude-Code-shaped request (long
 * system prompt, `system`-role message, 18 tools with long descriptions, adaptive thinking...) on
 * `/v1/messages` with an API key, and the same conversation on `/v1/chat/completions`, streamed, 16
 * tokens out, greedy. Through `ripple up` (one peer holding the model) against llama-server alone on
 * the same file, threads, slots and context (the anchor: it serves both APIs itself). Turn 1 meets a
 * cold prompt; turn 2 is the same conversation plus turn 1's answer and a short new ask, which the
 * prompt cache makes cheap. Timed: first streamed token (first content_block_delta, first delta with
 * content or reasoning) and the whole answer. Every (round, API, server) is a session of its own, so
 * no turn 1 finds its prompt cached; the servers take turns first. Run: `npm run bench agent-turn`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { isolatedNetwork, type RunningRipple, runRipple } from '../tests/e2e/ripple-process.ts'
import { llamaCppTemplate } from '../tests/fixtures/gguf-gen/llama-cpp-templates.ts'
import { ANTHROPIC_HEADERS, anthropicTurn, chatTurn } from './agent-request.ts'
import { type Endpoint, startBenchPeer, startLlamaServer } from './chat-paths.ts'
import { median, ratio, round } from './measure.ts'
import type { BenchReport } from './report.ts'

const MODEL = 'agent'
/** Sized so a ~20k-token prompt evaluates in about 5 s on 2 idle cores (measured: 128 wide, 4 blocks ~10 s; 256/4 ~19 s). */
const MODEL_OPTIONS = { embedding: 128, blocks: 2, feedForward: 256, heads: 4, name: 'bench agent turn' }
const CONTEXT_SIZE = 32_768
const SLOTS = 1
const ROUNDS = 5

interface Turn {
  ttft_ms: number
  total_ms: number
  prompt_tokens: number
  /** Prompt tokens the server says it took from its cache; null where it does not say. */
  cached_tokens: number | null
  answer: string
}

/** The parts of either API's stream events read here. */
interface Usage {
  input_tokens?: number
  cache_read_input_tokens?: number
  prompt_tokens?: number
  prompt_tokens_details?: { cached_tokens?: number }
}
interface Event {
  type?: string
  error?: unknown
  message?: { usage?: Usage }
  usage?: Usage
  delta?: { text?: string }
  choices?: { delta?: { content?: string | null; reasoning_content?: string | null } }[]
}

/** The JSON of each `data:` line of a server-sent event stream. */
async function* sseData(res: Response): AsyncGenerator<Event> {
  let buffer = ''
  for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
    buffer += chunk
    const lines = buffer.split('\n')
    buffer = lines.pop() ?? ''
    for (const line of lines) {
      const data = line.startsWith('data:') ? line.slice(5).trim() : ''
      if (data !== '' && data !== '[DONE]') yield JSON.parse(data) as Event
    }
  }
}

/** POSTs `body` and reads the stream; `read` sees each event and says whether it carried a token. */
async function streamed(
  what: string,
  url: string,
  headers: Record<string, string>,
  body: Record<string, unknown>,
  read: (event: Event, turn: Turn) => boolean,
): Promise<Turn> {
  const startedAt = performance.now()
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  // A refusal is the finding: the bench stops with it rather than sending something simpler.
  if (!res.ok) throw new Error(`${what} refused the agent's request: ${res.status} ${await res.text()}`)
  const turn: Turn = { ttft_ms: 0, total_ms: 0, prompt_tokens: 0, cached_tokens: null, answer: '' }
  let firstAt: number | null = null
  for await (const event of sseData(res)) {
    if (event.type === 'error' || event.error) throw new Error(`${what} failed: ${JSON.stringify(event)}`)
    if (read(event, turn)) firstAt ??= performance.now()
  }
  const endedAt = performance.now()
  if (firstAt === null) throw new Error(`${what} streamed no token`)
  return { ...turn, ttft_ms: firstAt - startedAt, total_ms: endedAt - startedAt }
}

/** Anthropic's usage, in `message_start` or `message_delta`: the largest count seen wins. */
function anthropicUsage(usage: Usage | undefined, turn: Turn): void {
  if (!usage) return
  // Anthropic's input_tokens leaves out what was read from the cache.
  const cached = usage.cache_read_input_tokens
  turn.prompt_tokens = Math.max(turn.prompt_tokens, (usage.input_tokens ?? 0) + (cached ?? 0))
  if (cached !== undefined) turn.cached_tokens = Math.max(turn.cached_tokens ?? 0, cached)
}

const API = {
  messages: {
    name: '/v1/messages',
    turn: (server: Endpoint, what: string, session: string, answer: string | null) =>
      streamed(
        what,
        `${server.url}/v1/messages?beta=true`,
        { 'x-api-key': server.token, ...ANTHROPIC_HEADERS },
        anthropicTurn(MODEL, session, answer),
        (e, turn) => {
          anthropicUsage(e.message?.usage ?? e.usage, turn)
          if (e.type !== 'content_block_delta') return false
          turn.answer += e.delta?.text ?? ''
          return true
        },
      ),
  },
  chat: {
    name: '/v1/chat/completions',
    turn: (server: Endpoint, what: string, session: string, answer: string | null) =>
      streamed(
        what,
        `${server.url}/v1/chat/completions`,
        { authorization: `Bearer ${server.token}` },
        chatTurn(MODEL, session, answer),
        (e, turn) => {
          if (e.usage) {
            turn.prompt_tokens = e.usage.prompt_tokens ?? 0
            turn.cached_tokens = e.usage.prompt_tokens_details?.cached_tokens ?? null
          }
          const delta = e.choices?.[0]?.delta ?? {}
          turn.answer += delta.content ?? ''
          return Boolean(delta.content || delta.reasoning_content)
        },
      ),
  },
}
type ApiKey = keyof typeof API
const SERVERS = ['llama', 'ripple'] as const

export default async function run(): Promise<BenchReport> {
  const threads = availableParallelism()
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-agent-'))
  let daemon: RunningRipple | null = null
  let llama: Awaited<ReturnType<typeof startLlamaServer>> | null = null
  try {
    const modelsDir = join(root, 'models')
    await mkdir(modelsDir, { recursive: true })
    const modelPath = join(modelsDir, `${MODEL}.gguf`)
    const chatTemplate = await llamaCppTemplate('qwen3')
    await writeLlamaModel(modelPath, { ...MODEL_OPTIONS, chatTemplate, contextLength: CONTEXT_SIZE })
    llama = await startLlamaServer(modelPath, threads, SLOTS, CONTEXT_SIZE)
    const engine = { threads, slots: SLOTS, contextSize: CONTEXT_SIZE }
    const peer = await startBenchPeer(
      root,
      await isolatedNetwork(root, 'bench-agent'),
      'peer',
      modelsDir,
      engine,
    )
    daemon = peer.daemon
    const ripple = async (...args: string[]) => {
      const res = await runRipple([...args, '--data-dir', join(root, 'peer')], { timeoutMs: 120_000 })
      if (res.code !== 0) throw new Error(`ripple ${args.join(' ')}: ${res.stderr}`)
      return res.stdout.trim()
    }
    await ripple('models', 'load', MODEL)
    // The agent's key, as an agent is configured with, not the management token.
    const key = await ripple('keys', 'create', '--name', 'agent-turn')
    const servers: Record<(typeof SERVERS)[number], Endpoint> = {
      llama,
      ripple: { url: peer.url, token: key },
    }
    const label = { llama: 'llama-server', ripple: 'Ripple' }

    const turns = new Map<string, Turn[]>()
    const keep = (k: string, t: Turn) => turns.set(k, [...(turns.get(k) ?? []), t])
    for (let r = 0; r < ROUNDS; r++)
      for (const api of Object.keys(API) as ApiKey[])
        for (const s of r % 2 === 0 ? SERVERS : [...SERVERS].reverse()) {
          const session = `${r}-${api}-${s}`
          const what = `${label[s]} ${API[api].name}`
          const first = await API[api].turn(servers[s], what, session, null)
          const second = await API[api].turn(servers[s], what, session, first.answer)
          keep(`${api}/1/${s}`, first)
          keep(`${api}/2/${s}`, second)
          process.stderr.write(
            `bench: round ${r + 1} ${what}: ${round(first.ttft_ms)} / ${round(second.ttft_ms)} ms to first token\n`,
          )
        }

    const rows: BenchReport['rows'] = []
    const figures: BenchReport['figures'] = {
      threads,
      slots: SLOTS,
      context_size: CONTEXT_SIZE,
      rounds: ROUNDS,
    }
    for (const api of Object.keys(API) as ApiKey[])
      for (const n of [1, 2]) {
        const of = (s: string) => turns.get(`${api}/${n}/${s}`) ?? []
        const stat = (s: string, f: (t: Turn) => number) => round(median(of(s).map(f)))
        const cached = (s: string) => of(s)[0]?.cached_tokens ?? '-'
        const key = `${api}_turn${n}`
        const ttft = { llama: stat('llama', (t) => t.ttft_ms), ripple: stat('ripple', (t) => t.ttft_ms) }
        const total = { llama: stat('llama', (t) => t.total_ms), ripple: stat('ripple', (t) => t.total_ms) }
        rows.push({
          request: `${API[api].name}, turn ${n}${n === 1 ? ' (cold prompt)' : ' (prompt cached)'}`,
          'prompt tokens (llama-server / Ripple)': `${of('llama')[0]?.prompt_tokens} / ${of('ripple')[0]?.prompt_tokens}`,
          'cached tokens (llama-server / Ripple)': `${cached('llama')} / ${cached('ripple')}`,
          'first token ms, llama-server': ttft.llama,
          'first token ms, Ripple': ttft.ripple,
          'first token, Ripple/llama-server': ratio(ttft.ripple, ttft.llama),
          'total ms, llama-server': total.llama,
          'total ms, Ripple': total.ripple,
          'total, Ripple/llama-server': ratio(total.ripple, total.llama),
        })
        Object.assign(figures, {
          [`${key}_prompt_tokens`]: of('llama')[0]?.prompt_tokens ?? 0,
          [`${key}_ttft_ms_llama_server`]: ttft.llama,
          [`${key}_ttft_ms_ripple`]: ttft.ripple,
          [`${key}_ttft_ratio`]: ratio(ttft.ripple, ttft.llama),
          [`${key}_total_ms_llama_server`]: total.llama,
          [`${key}_total_ms_ripple`]: total.ripple,
          [`${key}_total_ratio`]: ratio(total.ripple, total.llama),
        })
      }
    // Other work on the machine slows a cold prompt most: the load says how quiet it was.
    figures.load_average_1m = round(loadavg()[0] ?? 0)
    return {
      name: 'agent-turn',
      rows,
      figures,
      note:
        `A coding agent's turn (Claude-Code-shaped on /v1/messages with an API key, the same on chat completions; ` +
        `streamed, 16 tokens out, greedy), median of ${ROUNDS} sessions, each a cold turn 1 and a turn 2 resending it ` +
        `with the answer and a new ask; a generated ${MODEL_OPTIONS.blocks}-block ${MODEL_OPTIONS.embedding}-wide model ` +
        `(F32, random weights) with Qwen 3's template from llama.cpp, ${threads} threads, ${SLOTS} slot, context ` +
        `${CONTEXT_SIZE}; ripple up (one peer holding the model) against llama-server alone on the same file ` +
        `(backend ${llama.backend}).`,
    }
  } finally {
    await llama?.stop()
    if (daemon && daemon.child.exitCode === null) daemon.child.kill('SIGTERM')
    await daemon?.exited
    await rm(root, { recursive: true, force: true })
  }
}
