/**
 * Inference throughput on a generated ~104M-parameter F16 llama model (random weights, written to a
 * temp dir at bench time), greedy, with the real core count as threads: llama-server called directly
 * (the anchor, started here from the daemon's build and backend folder), then `infer.generate` through
 * its Worker (which runs the model in the engine's own llama-server), then as a task through the mesh.
 * Each path answers the same prompt with the same number of tokens (greedy, so the same tokens), so
 * the difference in wall time per task is the fixed overhead of the path. Run: `npm run bench inference`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { serverPlan } from '../host/inference/engine/server-request.ts'
import { foldCompletion } from '../host/inference/engine/server-stream.ts'
import { FileHashCache } from '../host/inference/file-hash-cache.ts'
import { BENCH_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { ModelManager } from '../host/inference/model-manager.ts'
import { createLogger } from '../host/log/logger.ts'
import { workerModels } from '../host/node/worker-models.ts'
import { modelInfo } from '../host/registry/index.ts'
import { isTerminal, type SchedulerService } from '../host/scheduler/scheduler-service.ts'
import { InferGenerateOutputSchema, inferGenerateWorker } from '../host/workers/infer-generate.ts'
import { runScenario } from '../tests/scenarios/harness.ts'
import { type RunLog, startSchedulerHost } from '../tests/scenarios/scheduler-hosts.ts'
import { NO_REQUIREMENTS } from '../zomes-bindings/index.ts'
import { type Endpoint, startLlamaServer } from './chat-paths.ts'
import { median, ratio, round } from './measure.ts'
import type { BenchReport } from './report.ts'

const MODEL_NAME = 'bench-104m'
const RUNS = 5
const GENERATED_TOKENS = 48
// The fixed cost of a task shows best on tasks that do almost nothing: a short prompt, one token.
const SHORT_RUNS = 11
const SHORT_PROMPT = 'Hi'
// ~180 tokens with the generated vocabulary (one token per character).
const PROMPT = 'The quick brown fox jumps over the lazy dog. '.repeat(4)
const CONTEXT_SIZE = 1024

/** One generation, as a path measures it. */
export interface PathSample {
  /** Wall time of the whole task, as its caller waits for it. */
  wall_ms: number
  prompt_tokens: number
  generated_tokens: number
  /** Prompt evaluation and first token. */
  time_to_first_token_ms: number
  /** Decode rate after the first token. */
  tokens_per_second: number
}

/** A way to run one greedy generation of `maxTokens` tokens for `prompt`. */
export interface InferencePath {
  /** Short, for figure names: `direct`, `worker`, `mesh`. */
  key: string
  name: string
  generate(prompt: string, maxTokens: number): Promise<PathSample>
}

/**
 * llama-server alone: the `/completion` request the engine makes for the same generation, its stream
 * read as the engine reads it; no daemon, no worker in between.
 */
export function directPath(server: Endpoint): InferencePath {
  return {
    key: 'direct',
    name: 'llama-server direct',
    async generate(prompt, maxTokens) {
      // Greedy: the seed changes nothing.
      const plan = serverPlan({ prompt, max_tokens: maxTokens, temperature: 0, seed: 1 })
      if (plan.kind !== 'completion') throw new Error('a raw prompt goes to /completion')
      const startedAt = performance.now()
      const response = await fetch(`${server.url}/completion`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(plan.completion(null)),
      })
      if (!response.ok || !response.body) throw new Error(`llama-server: HTTP ${response.status}`)
      const answer = await foldCompletion(response.body, {})
      const endedAt = performance.now()
      return {
        wall_ms: endedAt - startedAt,
        prompt_tokens: answer.promptTokens,
        generated_tokens: answer.generatedTokens,
        time_to_first_token_ms: (answer.firstOutputAt ?? endedAt) - startedAt,
        tokens_per_second: answer.decodeRate ?? 0,
      }
    },
  }
}

/** `infer.generate` through its Worker, input checked and output checked as the scheduler does. */
export function workerPath(models: ModelManager): InferencePath {
  const worker = inferGenerateWorker(workerModels(models))
  return {
    key: 'worker',
    name: 'infer.generate worker (local)',
    async generate(prompt, maxTokens) {
      const startedAt = performance.now()
      const input = worker.input.parse({ model: MODEL_NAME, prompt, max_tokens: maxTokens, temperature: 0 })
      const ctx = { signal: new AbortController().signal, onEvent: () => {} }
      const { timings } = worker.output.parse((await worker.run(input, ctx)).output)
      return {
        wall_ms: performance.now() - startedAt,
        prompt_tokens: timings.prompt_tokens,
        generated_tokens: timings.generated_tokens,
        time_to_first_token_ms: timings.time_to_first_token_ms,
        tokens_per_second: timings.tokens_per_second ?? 0,
      }
    },
  }
}

/**
 * `infer.generate` as a task through the mesh: submitted on one peer (which runs no workers), claimed,
 * run and answered by another, the Result replicated back and accepted. Wall time is submit -> done.
 */
export function meshPath(requester: Pick<SchedulerService, 'submit' | 'watch' | 'view'>): InferencePath {
  return {
    key: 'mesh',
    name: 'infer.generate through the mesh (2 peers)',
    async generate(prompt, maxTokens) {
      const startedAt = performance.now()
      const ref = await requester.submit(
        {
          kind: 'infer.generate',
          requirements: { ...NO_REQUIREMENTS, model: MODEL_NAME },
          lease_ms: 120_000,
          deadline: (Date.now() + 300_000) * 1000,
          max_attempts: 1,
          fan_out: 1,
        },
        { model: MODEL_NAME, prompt, max_tokens: maxTokens, temperature: 0 },
      )
      await new Promise<void>((resolve) => {
        const unwatch = requester.watch(ref.action_hash, (event) => {
          if (event.type === 'status' && isTerminal(event.status)) {
            unwatch()
            resolve()
          }
        })
      })
      const wallMs = performance.now() - startedAt
      const { state, payloads } = await requester.view(ref.action_hash)
      const result = state.results.find((r) => r.action_hash === state.receipt?.entry.result)
      if (state.status !== 'done' || !result)
        throw new Error(`mesh task ${ref.action_hash} ended ${state.status}`)
      const { timings } = InferGenerateOutputSchema.parse(payloads.outputs[result.action_hash])
      return {
        wall_ms: wallMs,
        prompt_tokens: timings.prompt_tokens,
        generated_tokens: timings.generated_tokens,
        time_to_first_token_ms: timings.time_to_first_token_ms,
        tokens_per_second: timings.tokens_per_second ?? 0,
      }
    },
  }
}

interface PathResult {
  key: string
  name: string
  samples: PathSample[]
}

/** Runs each path `runs` times, alternating paths so drift in the machine's load hits all alike. */
export async function comparePaths(
  paths: readonly InferencePath[],
  prompt: string,
  maxTokens: number,
  runs: number,
): Promise<PathResult[]> {
  const results = paths.map((path) => ({ key: path.key, name: path.name, samples: [] as PathSample[] }))
  for (let run = 0; run < runs; run++) {
    for (const [i, path] of paths.entries()) results[i]?.samples.push(await path.generate(prompt, maxTokens))
  }
  return results
}

function summarise(result: PathResult) {
  const s = result.samples
  return {
    key: result.key,
    path: result.name,
    wall_ms: round(median(s.map((x) => x.wall_ms))),
    prompt_tok_s: round(median(s.map((x) => (x.prompt_tokens * 1000) / x.time_to_first_token_ms))),
    gen_tok_s: round(median(s.map((x) => x.tokens_per_second))),
    end_to_end_tok_s: round(median(s.map((x) => (x.generated_tokens * 1000) / x.wall_ms))),
    prompt_tokens: median(s.map((x) => x.prompt_tokens)),
    generated_tokens: median(s.map((x) => x.generated_tokens)),
  }
}

/** The other paths against the first (direct): end-to-end throughput ratio and wall-time overhead. */
function relativeFigures(long: ReturnType<typeof summarise>[], short: ReturnType<typeof summarise>[]) {
  const [direct, ...others] = long
  const directShort = short[0]
  if (!direct || !directShort) throw new Error('the direct path produced no samples')
  const figures: Record<string, number> = {
    direct_gen_tok_s: direct.gen_tok_s,
    direct_prompt_tok_s: direct.prompt_tok_s,
    direct_short_task_ms: directShort.wall_ms,
  }
  for (const [i, path] of others.entries()) {
    const pathShort = short[i + 1]
    if (!pathShort) continue
    figures[`${path.key}_gen_tok_s`] = path.gen_tok_s
    figures[`${path.key}_to_direct_end_to_end_ratio`] = ratio(path.end_to_end_tok_s, direct.end_to_end_tok_s)
    figures[`${path.key}_overhead_ms_long_task`] = round(path.wall_ms - direct.wall_ms)
    figures[`${path.key}_overhead_ms_short_task`] = round(pathShort.wall_ms - directShort.wall_ms)
  }
  return figures
}

export default async function run(): Promise<BenchReport> {
  const threads = availableParallelism()
  const dir = await mkdtemp(join(tmpdir(), 'ripple-bench-inference-'))
  const logger = createLogger('warn')
  const models = new ModelManager({
    modelsDir: dir,
    hashCache: new FileHashCache(null),
    threads,
    contextSize: CONTEXT_SIZE,
    logger,
  })
  let server: Awaited<ReturnType<typeof startLlamaServer>> | null = null
  try {
    const generatedAt = performance.now()
    const file = await writeLlamaModel(join(dir, `${MODEL_NAME}.gguf`), BENCH_MODEL)
    const generateMs = performance.now() - generatedAt
    const loaded = await models.load(MODEL_NAME)
    server = await startLlamaServer(join(dir, `${MODEL_NAME}.gguf`), threads, 1, CONTEXT_SIZE)
    const anchor: Endpoint = server
    const info = (await models.list()).models[0]
    if (!info) throw new Error('the generated model is not usable')
    return await runScenario(async (scenario) => {
      // Two loopback peers: the requester runs no workers, the other runs infer.generate on the model.
      const [requester, runner] = await scenario.addPlayers(2)
      await scenario.shareAllAgents()
      // Undefined timing: the scheduler's own defaults, as in the daemon (the helper's are for tests).
      const timing = { pollMs: undefined, claimWindowMs: undefined, leaseGraceMs: undefined }
      const log: RunLog = { runs: [] }
      const hosts = [
        await startSchedulerHost(requester!, { name: 'requester', workers: false, log, timing }),
        await startSchedulerHost(runner!, {
          name: 'runner',
          log,
          timing,
          extraWorkers: [inferGenerateWorker(workerModels(models))],
          capability: { inference: { models: [modelInfo(info)], tokens_per_second: null } },
        }),
      ]
      try {
        await scenario.dhtSync([requester!, runner!], 'agent_registry')
        const paths = [directPath(anchor), workerPath(models), meshPath(hosts[0]!.scheduler)]
        // Warm-up, one whole task per path: the first runs pay for page faults into the mapped weights.
        await comparePaths(paths, PROMPT, GENERATED_TOKENS, 1)
        const rows = (await comparePaths(paths, PROMPT, GENERATED_TOKENS, RUNS)).map(summarise)
        const short = (await comparePaths(paths, SHORT_PROMPT, 1, SHORT_RUNS)).map(summarise)
        return {
          name: 'inference',
          rows: rows.map(({ key: _key, ...row }) => row),
          figures: {
            parameters: file.parameters,
            threads,
            model_generate_ms: Math.round(generateMs),
            model_load_ms: loaded.loadMs,
            ...relativeFigures(rows, short),
            load_average_1m: round(loadavg()[0] ?? 0),
          },
          note:
            `${(file.parameters / 1e6).toFixed(0)}M-param F16 llama (random weights), ${threads} threads, ` +
            `context ${CONTEXT_SIZE}, greedy, ~${rows[0]?.prompt_tokens}-token prompt -> ${GENERATED_TOKENS} tokens; ` +
            `median of ${RUNS} runs per path (after a warm-up), paths alternating; wall_ms is one whole task; ` +
            `overhead = path wall - direct wall, also on ${SHORT_RUNS} short tasks ("${SHORT_PROMPT}" -> 1 token)`,
        }
      } finally {
        await Promise.all(hosts.map((h) => h.stop()))
      }
    })
  } finally {
    await models.stop()
    await server?.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
