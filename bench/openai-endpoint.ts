/**
 * The OpenAI-compatible endpoint's cost: time to first token and decode rate of a streamed
 * `/v1/chat/completions`, (a) on the peer that holds the model and (b) on another peer (the task
 * runs on the first over the mesh), against node-llama-cpp's LlamaChat called directly in this
 * process on the same file, threads, context size and messages (greedy, so the same tokens); plus
 * the fixed overhead of a one-token request on each path. Two `ripple up` processes on loopback; the
 * paths alternate, so drift in the machine's load hits all alike. Run: `npm run bench openai-endpoint`.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { BENCH_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { isolatedNetwork, type RunningRipple, startRipple } from '../tests/e2e/ripple-process.ts'
import { alternate, directPath, endpointPath } from './chat-paths.ts'
import type { BenchReport } from './report.ts'

const MODEL = 'bench-104m'
// Chat needs a context of at least 2048 tokens (node-llama-cpp shifts a smaller one forever).
const CONTEXT_SIZE = 2048
const RUNS = 5
const SHORT_RUNS = 9
const GENERATED_TOKENS = 48
const MESSAGES = [
  { role: 'user' as const, content: 'The quick brown fox jumps over the lazy dog. '.repeat(3) },
]

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN
const round1 = (n: number) => Math.round(n * 10) / 10
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000

export default async function run(): Promise<BenchReport> {
  const threads = availableParallelism()
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-openai-'))
  const daemons: RunningRipple[] = []
  let direct: Awaited<ReturnType<typeof directPath>> | null = null
  try {
    const modelsDir = join(root, 'holder-models')
    await mkdir(modelsDir, { recursive: true })
    await writeLlamaModel(join(modelsDir, `${MODEL}.gguf`), BENCH_MODEL)
    const network = await isolatedNetwork(root, 'bench-openai')
    const start = async (name: string, models: string) => {
      await mkdir(models, { recursive: true })
      const args = [
        '--network',
        network,
        '--data-dir',
        join(root, name),
        '--models-dir',
        models,
        '--api-port',
        '0',
      ]
      const daemon = await startRipple(
        [
          ...args,
          '--threads',
          String(threads),
          '--context-size',
          String(CONTEXT_SIZE),
          '--log-level',
          'warn',
        ],
        120_000,
      )
      daemons.push(daemon)
      const line = (key: string) =>
        new RegExp(`^ripple: ${key} (\\S+)$`, 'm').exec(daemon.stdout())?.[1] ?? ''
      return { url: line('api'), token: (await readFile(join(root, name, 'api-token'), 'utf8')).trim() }
    }
    const [holder, other] = await Promise.all([
      start('holder', modelsDir),
      start('other', join(root, 'other-models')),
    ])
    // The other peer must see the holder's model before it can route to it.
    const client = new OpenAI({ baseURL: `${other!.url}/v1`, apiKey: other!.token })
    for (
      const deadline = Date.now() + 60_000;
      !(await client.models.list()).data.some((m) => m.id === MODEL);
    ) {
      if (Date.now() > deadline) throw new Error('the other peer never saw the model')
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
    process.stderr.write('bench: both peers up, the model seen\n')
    direct = await directPath(join(modelsDir, `${MODEL}.gguf`), threads, MESSAGES, CONTEXT_SIZE)
    process.stderr.write('bench: direct path ready\n')
    const paths = [
      direct,
      endpointPath('local', '/v1/chat/completions on the peer with the model', holder!, MODEL, MESSAGES),
      endpointPath(
        'remote',
        '/v1/chat/completions on another peer (runs on the holder)',
        other!,
        MODEL,
        MESSAGES,
      ),
    ]
    // Warm-up: loads the model in the holder and pages in the weights everywhere.
    await alternate(paths, GENERATED_TOKENS, 1)
    const long = await alternate(paths, GENERATED_TOKENS, RUNS)
    const short = await alternate(paths, 1, SHORT_RUNS)
    const rows = paths.map((path, i) => ({
      path: path.name,
      ttft_ms: round1(median(long[i]!.map((s) => s.ttft_ms))),
      gen_tok_s: round1(median(long[i]!.map((s) => s.tok_s))),
      wall_ms: round1(median(long[i]!.map((s) => s.wall_ms))),
      tokens: median(long[i]!.map((s) => s.tokens)),
      one_token_ms: round1(median(short[i]!.map((s) => s.wall_ms))),
    }))
    const [d, local, remote] = rows
    const figures: Record<string, number> = {
      threads,
      direct_ttft_ms: d!.ttft_ms,
      direct_gen_tok_s: d!.gen_tok_s,
      load_average_1m: round1(loadavg()[0] ?? 0),
    }
    for (const [key, row] of [
      ['local', local!],
      ['remote', remote!],
    ] as const) {
      figures[`${key}_ttft_ms`] = row.ttft_ms
      figures[`${key}_gen_tok_s`] = row.gen_tok_s
      figures[`${key}_to_direct_gen_tok_s_ratio`] = ratio(row.gen_tok_s, d!.gen_tok_s)
      figures[`${key}_to_direct_ttft_ratio`] = ratio(row.ttft_ms, d!.ttft_ms)
      figures[`${key}_one_token_overhead_ms`] = round1(row.one_token_ms - d!.one_token_ms)
    }
    return {
      name: 'openai-endpoint',
      rows,
      figures,
      note:
        `${MODEL} (104M-param F16, random weights), ${threads} threads, context ${CONTEXT_SIZE}, greedy chat, ` +
        `${GENERATED_TOKENS} tokens; median of ${RUNS} streamed requests per path after a warm-up (one_token_ms: ` +
        `${SHORT_RUNS} one-token requests), paths alternating; ttft and tok/s as the client sees them`,
    }
  } finally {
    await direct?.close()
    for (const daemon of daemons) daemon.child.kill('SIGTERM')
    await Promise.all(daemons.map((daemon) => daemon.exited))
    await rm(root, { recursive: true, force: true })
  }
}
