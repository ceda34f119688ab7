/**
 * The ways the inference benchmarks ask for one streamed chat answer, each timed by its caller the
 * same way (time to first token, decode rate after it): any OpenAI-compatible endpoint (a peer's
 * `/v1`, or llama-server itself, the anchor).
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import OpenAI from 'openai'
import { EngineBackends } from '../host/inference/engine/engine-backends.ts'
import { LlamaServerProcess } from '../host/inference/engine/llama-server-process.ts'
import { createLogger } from '../host/log/logger.ts'
import { type RunningRipple, startRipple } from '../tests/e2e/ripple-process.ts'
import { waitFor } from './measure.ts'

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface Sample {
  wall_ms: number
  ttft_ms: number
  tokens: number
  /** Generated tokens per second after the first. */
  tok_s: number
}

export interface Path {
  key: string
  name: string
  run(maxTokens: number): Promise<Sample>
}

/** An OpenAI-compatible endpoint: its base URL and bearer token. */
export interface Endpoint {
  url: string
  token: string
}

/** Engine settings a benchmark gives a peer and its llama-server anchor alike. */
export interface EngineSettings {
  threads: number
  slots: number
  contextSize: number
}

/** `ripple up` on `network` with a data dir `<root>/<name>` and these engine settings; its endpoint. */
export async function startBenchPeer(
  root: string,
  network: string,
  name: string,
  modelsDir: string,
  engine: EngineSettings,
): Promise<Endpoint & { daemon: RunningRipple }> {
  await mkdir(modelsDir, { recursive: true })
  const daemon = await startRipple(
    [
      ...['--network', network, '--data-dir', join(root, name), '--models-dir', modelsDir, '--api-port', '0'],
      ...['--threads', String(engine.threads), '--context-size', String(engine.contextSize)],
      ...['--parallel', String(engine.slots), '--log-level', 'warn'],
    ],
    120_000,
  )
  return {
    daemon,
    url: /^ripple: api (\S+)$/m.exec(daemon.stdout())?.[1] ?? '',
    token: (await readFile(join(root, name, 'api-token'), 'utf8')).trim(),
  }
}

/**
 * The anchor: llama-server started here from the same build and backend folder the daemon uses, on
 * the same file, threads, slots and context per slot.
 */
export async function startLlamaServer(
  modelPath: string,
  threads: number,
  slots: number,
  contextSize: number,
): Promise<Endpoint & { backend: string; stop(): Promise<void> }> {
  const backends = new EngineBackends({ logger: createLogger('warn') })
  const backend = await backends.active()
  const server = await LlamaServerProcess.start({
    dir: backend.dir,
    env: backend.env,
    args: [
      '-m',
      modelPath,
      '-t',
      String(threads),
      '-np',
      String(slots),
      '-c',
      String(contextSize * slots),
      '--jinja',
    ],
  })
  return {
    url: server.url,
    token: (server.headers.authorization ?? '').slice('Bearer '.length),
    backend: backend.candidate.id,
    stop: () => server.stop(),
  }
}

/** A streamed chat completion through a peer's endpoint, timed by the client; `extra` joins the body. */
export function endpointPath(
  key: string,
  name: string,
  peer: Endpoint,
  model: string,
  messages: readonly ChatTurn[],
  extra: Record<string, unknown> = {},
): Path {
  const client = new OpenAI({ baseURL: `${peer.url}/v1`, apiKey: peer.token, maxRetries: 0 })
  return {
    key,
    name,
    async run(maxTokens) {
      const startedAt = performance.now()
      let firstAt: number | null = null
      let tokens = 0
      const stream = await client.chat.completions.create({
        model,
        messages: [...messages],
        max_tokens: maxTokens,
        temperature: 0,
        seed: 1,
        stream: true,
        stream_options: { include_usage: true },
        ...extra,
      })
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) firstAt ??= performance.now()
        if (chunk.usage) tokens = chunk.usage.completion_tokens
      }
      const endedAt = performance.now()
      return sample(startedAt, firstAt ?? endedAt, endedAt, tokens)
    },
  }
}

export function sample(startedAt: number, firstAt: number, endedAt: number, tokens: number): Sample {
  return {
    wall_ms: endedAt - startedAt,
    ttft_ms: firstAt - startedAt,
    tokens,
    tok_s: tokens > 1 && endedAt > firstAt ? ((tokens - 1) * 1000) / (endedAt - firstAt) : 0,
  }
}

/**
 * `runs` rounds of every path in turn, so drift in the machine's load hits all alike; `pauseMs` before
 * each request lets the work a path leaves behind (records being gossiped and checked) end first.
 */
export async function alternate(
  paths: readonly Path[],
  maxTokens: number,
  runs: number,
  pauseMs = 0,
): Promise<Sample[][]> {
  const samples = paths.map(() => [] as Sample[])
  for (let i = 0; i < runs; i++)
    for (const [p, path] of paths.entries()) {
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs))
      samples[p]?.push(await path.run(maxTokens))
    }
  return samples
}

/**
 * The floor any process between the agent and llama-server adds: a bare Node pass-through in a process
 * of its own, piping each request and answer through unread (no parse, no check, no record). Its
 * endpoint is the target's, one hop further.
 */
export async function passThrough(target: Endpoint): Promise<Endpoint & { close(): void }> {
  const script = `
    const http = require('node:http')
    const agent = new http.Agent({ keepAlive: true })
    const server = http.createServer((req, res) => {
      const up = http.request(process.argv[1] + req.url, { method: req.method, headers: req.headers, agent }, (r) => {
        res.writeHead(r.statusCode, r.headers)
        r.pipe(res)
      })
      up.on('error', () => res.destroy())
      req.pipe(up)
    })
    server.listen(0, '127.0.0.1', () => console.log(server.address().port))`
  const child = spawn(process.execPath, ['-e', script, target.url], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = (await once(child.stdout, 'data')) as [Buffer]
  return {
    url: `http://127.0.0.1:${line.toString().trim()}`,
    token: target.token,
    close: () => child.kill(),
  }
}

/** `count` requests made by `make`, `atOnce` in flight at a time; requests per second. */
export async function requestRate(
  make: () => Promise<unknown>,
  count: number,
  atOnce: number,
): Promise<number> {
  let next = 0
  const startedAt = performance.now()
  await Promise.all(
    Array.from({ length: atOnce }, async () => {
      while (next < count) {
        next += 1
        await make()
      }
    }),
  )
  return (count * 1000) / (performance.now() - startedAt)
}

/** Waits until a peer's /v1 lists `model` as loaded on some peer of the mesh. */
export async function waitForLoaded(openai: OpenAI, model: string, what: string): Promise<void> {
  await waitFor(
    what,
    async () => {
      const m = (await openai.models.list()).data.find((x) => x.id === model) as
        | { ripple?: { loaded_on: string[] } }
        | undefined
      return (m?.ripple?.loaded_on.length ?? 0) > 0
    },
    120_000,
  )
}
