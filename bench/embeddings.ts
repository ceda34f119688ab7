/**
 * Embeddings on one file, two ways: llama-server in embedding mode (mean pooling, started from the
 * daemon's build and backend folder with the daemon's arguments: the anchor) and a peer's
 * `/v1/embeddings` (one `ripple up` process, what an agent calls). The generated ~104M F16 llama
 * model, the machine's cores as threads; one short text at a time (latency) and batches of 32 texts
 * (texts per second). The cosine between the two paths' vectors for the same text says whether the
 * peer hands on what the engine computed.
 * Run: `npm run bench embeddings`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import OpenAI from 'openai'
import { EngineBackends } from '../host/inference/engine/engine-backends.ts'
import { LlamaServerProcess } from '../host/inference/engine/llama-server-process.ts'
import { BENCH_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { createLogger } from '../host/log/logger.ts'
import { isolatedNetwork, type RunningRipple } from '../tests/e2e/ripple-process.ts'
import { startBenchPeer } from './chat-paths.ts'
import { median, round } from './measure.ts'
import type { BenchReport } from './report.ts'

const MODEL = 'bench-104m'
const CONTEXT_SIZE = 2048
const RUNS = 15
const BATCH = 32
const BATCH_RUNS = 3
const PAUSE_MS = 400
const SHORT = 'What is the capital of Norway?'
const TEXTS = Array.from(
  { length: BATCH },
  (_, i) => `Note ${i}: the quick brown fox jumps over the lazy dog, then rests by the river for a while.`,
)

type Embed = (texts: string[]) => Promise<number[][]>

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] ?? 0) * (b[i] ?? 0)
    na += (a[i] ?? 0) ** 2
    nb += (b[i] ?? 0) ** 2
  }
  return dot / Math.sqrt(na * nb)
}

async function timed(embed: Embed, texts: string[]): Promise<number> {
  // The engine threads of the path before may still be spinning for work: let them settle.
  await new Promise((resolve) => setTimeout(resolve, PAUSE_MS))
  const startedAt = performance.now()
  const vectors = await embed(texts)
  if (vectors.length !== texts.length) throw new Error(`${vectors.length} vectors for ${texts.length} texts`)
  return performance.now() - startedAt
}

/** An OpenAI-compatible `/v1/embeddings` (llama-server's own, or a peer's). */
function endpointEmbed(url: string, token: string): Embed {
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: token, maxRetries: 0 })
  return async (texts) =>
    (await client.embeddings.create({ model: MODEL, input: texts })).data.map((d) => d.embedding)
}

export default async function run(): Promise<BenchReport> {
  const threads = availableParallelism()
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-embeddings-'))
  const daemons: RunningRipple[] = []
  let server: LlamaServerProcess | null = null
  try {
    const modelsDir = join(root, 'models')
    await mkdir(modelsDir, { recursive: true })
    const modelPath = join(modelsDir, `${MODEL}.gguf`)
    await writeLlamaModel(modelPath, BENCH_MODEL)

    const backend = await new EngineBackends({ logger: createLogger('warn') }).active()
    // The arguments the daemon's embedder gets (engine-model.ts): one slot, mean pooling.
    server = await LlamaServerProcess.start({
      dir: backend.dir,
      env: backend.env,
      args: [
        ...['-m', modelPath, '-t', String(threads), '-np', '1', '-c', String(CONTEXT_SIZE)],
        ...['--jinja', '-ngl', '0', '--embeddings', '--pooling', 'mean'],
      ],
    })
    const viaServer = endpointEmbed(server.url, (server.headers.authorization ?? '').slice('Bearer '.length))

    const network = await isolatedNetwork(root, 'bench-embeddings')
    const peer = await startBenchPeer(root, network, 'peer', modelsDir, {
      threads,
      slots: 1,
      contextSize: CONTEXT_SIZE,
    })
    daemons.push(peer.daemon)
    const viaPeer = endpointEmbed(peer.url, peer.token)

    const paths = [
      ['llama_server', 'llama-server, embedding mode (the engine)', viaServer],
      ['ripple_v1', 'ripple /v1/embeddings on the peer', viaPeer],
    ] as const
    // Warm each path (the peer loads the model and starts its embedder on the first request).
    for (const [, , embed] of paths) await embed([SHORT])
    const single = paths.map(() => [] as number[])
    for (let i = 0; i < RUNS; i++)
      for (const [p, [, , embed]] of paths.entries()) single[p]?.push(await timed(embed, [SHORT]))
    const batch = paths.map(() => [] as number[])
    for (let i = 0; i < BATCH_RUNS; i++)
      for (const [p, [, , embed]] of paths.entries()) batch[p]?.push(await timed(embed, TEXTS))

    const [serverVector] = await viaServer([TEXTS[0] ?? SHORT])
    const [peerVector] = await viaPeer([TEXTS[0] ?? SHORT])
    const figures: Record<string, number> = {
      cosine_llama_server_ripple: round(cosine(serverVector ?? [], peerVector ?? []), 3),
    }
    const anchorSingle = median(single[0] ?? [])
    const anchorRate = (BATCH * 1000) / median(batch[0] ?? [])
    const rows = paths.map(([key, name], p) => {
      const oneMs = round(median(single[p] ?? []))
      const rate = round((BATCH * 1000) / median(batch[p] ?? []))
      figures[`${key}_one_text_ms`] = oneMs
      figures[`${key}_batch_texts_s`] = rate
      return {
        path: name,
        'one text, ms': oneMs,
        [`texts/s, ${BATCH} at once`]: rate,
        'one text vs engine': round(oneMs / anchorSingle, 3),
        'texts/s vs engine': round(rate / anchorRate, 3),
      }
    })
    return {
      name: 'embeddings',
      note:
        `${BENCH_MODEL.name}, ${threads} threads, context ${CONTEXT_SIZE}, mean pooling on llama-server; median of ${RUNS} ` +
        `(batches: ${BATCH_RUNS}), paths alternating with ${PAUSE_MS} ms between requests; cosine of the two paths' vectors ${figures.cosine_llama_server_ripple}; ` +
        `backend ${backend.candidate.id}; load ${loadavg()[0]?.toFixed(2)}`,
      rows,
      figures,
    }
  } finally {
    await server?.stop()
    for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGTERM')
    await Promise.all(daemons.map((d) => d.exited))
    await rm(root, { recursive: true, force: true })
  }
}
