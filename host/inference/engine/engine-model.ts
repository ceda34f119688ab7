/**
 * One loaded model, served by a `llama-server` child process (llama.cpp's own server: continuous
 * batching over `slots` requests at once, prompt reuse by prefix). An abort inside llama.cpp ends
 * that process, not the daemon: the requests on it fail with the error `onCrash` makes of the exit
 * (the model manager decides whom to blame there) and the model counts as unloaded. Embeddings run
 * on a second server of the same engine, in embedding mode, started on the first embedding request.
 */
import type { LongOperationOptions } from '../../interface/progress.ts'
import type { Logger } from '../../log/logger.ts'
import type { EmbedResult } from '../embed.ts'
import type { GenerateOptions, GenerateRequest, GenerateResult } from '../generate.ts'
import { withinContext } from '../generate.ts'
import type { GgufModel } from '../gguf-scan.ts'
import { modelMemoryBytes } from '../memory-fit.ts'
import { ModelProcessError } from '../model-errors.ts'
import { checkConversation, InvalidMessagesError } from '../tool-calls.ts'
import { toolTurnsAsText } from '../tool-turns-text.ts'
import { hasImages, projectorOf } from '../vision.ts'
import type { ActiveBackend } from './engine-backends.ts'
import { grammarOr, SAMPLERS_FAILED, unparsed } from './engine-errors.ts'
import { EngineHttp } from './engine-http.ts'
import { generateResult, parseJson } from './generate-result.ts'
import { LlamaServerProcess, type ServerExit } from './llama-server-process.ts'
import { outputSoFar } from './output-so-far.ts'
import { parkable, parkableBody, parkedRun } from './parked-run.ts'
import { type ParkedSlots, parkedSlots, removeParkedSlots } from './parked-slots.ts'
import { httpThreads, type ServerArgsInit, serverArgs } from './server-args.ts'
import { type ServerPlan, serverPlan, type Thinking } from './server-request.ts'
import {
  continuedAnswer,
  EngineConnectionError,
  EngineRequestError,
  type FoldedAnswer,
  foldChat,
  foldCompletion,
  refusal,
  type Sinks,
} from './server-stream.ts'
import { TemplateRender, TemplateRenderError } from './template-render.ts'
import { asWhole, wholeChat, wholeCompletion } from './whole-answer.ts'

/** Aborted, the start ends its half-started process and rejects with the signal's reason. */
export interface EngineModelInit extends LongOperationOptions, ServerArgsInit {
  info: GgufModel
  /** Tokens of context per slot; capped by the model's training context. */
  contextSize: number
  /** Memory it takes here, when not the whole model's estimate (a split's share). */
  memoryBytes?: number
  /** Makes the error that the requests of a process that died on its own fail with (after the blame). */
  onCrash: (exit: ServerExit, backend: ActiveBackend) => Promise<Error>
  /** Called when its last running request ends (the keep-alive starts counting). */
  onIdle?: () => void
  /** Where a parked generation's resumption by re-running is said. */
  logger?: Logger
}

export class EngineModel {
  readonly info: GgufModel
  readonly loadMs: number
  readonly contextSize: number
  readonly threads: number
  readonly slots: number
  readonly backend: ActiveBackend
  /** Memory this model takes here, estimated (a split's share only). */
  readonly memoryBytes: number
  readonly #init: EngineModelInit
  readonly #server: LlamaServerProcess
  readonly #http: EngineHttp
  readonly #template: TemplateRender
  /** Parked generations' saved slots (removed with the model), what a park costs here. */
  readonly #parked: ParkedSlots
  readonly #inFlight = new Set<AbortController>()
  #embedder: Promise<{ server: LlamaServerProcess; http: EngineHttp }> | null = null
  #crash: Promise<Error> | null = null
  #unloaded = false
  /** A JSON schema comes after the reasoning, on the chat endpoint, until llama.cpp refuses one. */
  #schemaAfterReasoning = true
  /** Decode rate of the last generation that measured one (tokens/s), for the capability. */
  lastDecodeRate: number | null = null
  /** When a request last started or ended here (ms since the epoch): its idle time counts from it. */
  lastUsedAt = Date.now()
  /** Started with the model's projector (`--mmproj`): it takes images. */
  vision = false

  private constructor(
    init: EngineModelInit,
    server: LlamaServerProcess,
    loadMs: number,
    contextSize: number,
    parked: ParkedSlots,
  ) {
    this.#init = init
    this.#parked = parked
    this.info = init.info
    this.backend = init.backend
    this.threads = init.threads
    this.slots = init.slots
    this.contextSize = contextSize
    this.loadMs = loadMs
    this.memoryBytes = init.memoryBytes ?? modelMemoryBytes(init.info, contextSize * init.slots)
    this.#server = server
    this.#http = new EngineHttp(server.url, server.headers, { maxSockets: httpThreads(init.slots) })
    this.#template = new TemplateRender(init.info.name, (path, body, signal) =>
      this.#http.post(path, body, signal).catch((err: unknown) => this.#failure(err)),
    )
  }

  static async start(init: EngineModelInit): Promise<EngineModel> {
    const startedAt = performance.now()
    const contextSize = Math.min(init.contextSize, init.info.context_length)
    let model: EngineModel | null = null
    const projector = projectorOf(init.info.path)
    const parked = await parkedSlots()
    const server = await LlamaServerProcess.start({
      dir: init.backend.dir,
      env: init.backend.env,
      args: [
        ...serverArgs(init, contextSize),
        ...(projector ? ['--mmproj', projector] : []),
        '--slot-save-path',
        parked.dir,
      ],
      modelBytes: init.info.size_bytes,
      ...(init.onProgress ? { onProgress: init.onProgress } : {}),
      ...(init.signal ? { signal: init.signal } : {}),
      onExit: (exit) => {
        if (model) model.#crashed(exit)
      },
    }).catch((err: unknown) => removeParkedSlots(parked).then(() => Promise.reject(err)))
    // Ready is 100%: the resident-memory readings stop at 99 (and where /proc cannot be read, at 0).
    init.onProgress?.({ stage: 'load', done: 100, total: 100, unit: 'percent' })
    model = new EngineModel(init, server, Math.round(performance.now() - startedAt), contextSize, parked)
    model.vision = projector !== null
    return model
  }

  /** True once unloaded or dead: requests fail at once. */
  get disposed(): boolean {
    return this.#unloaded || this.#crash !== null
  }

  /** Requests running now; `slots - busy` are free. */
  get busy(): number {
    return this.#inFlight.size
  }

  async generate(asked: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    const request = withinContext(asked, this.contextSize)
    if (request.messages) checkConversation(request.messages)
    if (!this.vision && hasImages(request))
      throw new InvalidMessagesError(
        `model "${this.info.name}" takes no images: it was loaded without a projector (${this.info.name}.mmproj.gguf)`,
      )
    return this.#request(options.signal, async (signal) => {
      const startedAt = performance.now()
      const thinking = request.messages ? await this.#template.thinking(signal) : 'no'
      // Nobody reads the text as it comes: the answer is asked for whole (whole-answer.ts), but from a
      // template that thinks, whose reasoning's share of the tokens only a stream counts.
      const whole = !options.onEvent && thinking === 'no'
      if (options.yielding && parkable(request, thinking))
        return this.#parkable(request, thinking, signal, options, startedAt)
      // A template that drops tool turns gets them written as text, as one that raises on them.
      const asText = request.messages ? toolTurnsAsText(request.messages) : null
      if (asText && !(await this.#template.takesToolTurns(signal))) {
        const plan = serverPlan({ ...request, messages: asText }, { parseCalls: false, thinking })
        return this.#generate(plan, signal, options, startedAt, whole)
      }
      try {
        return await this.#answer(request, thinking, signal, options, startedAt, whole)
      } catch (err) {
        if (!(err instanceof TemplateRenderError) || !asText) throw err
        // The template rendered the probe's tool turns but raised on these: written as text, answered
        // as text (a forced call by its grammar still). The template raised before any output.
        const plan = serverPlan({ ...request, messages: asText }, { parseCalls: false, thinking })
        return this.#generate(plan, signal, options, startedAt, whole)
      }
    })
  }

  async #answer(
    request: GenerateRequest,
    thinking: Thinking,
    signal: AbortSignal,
    options: GenerateOptions,
    startedAt: number,
    whole: boolean,
  ): Promise<GenerateResult> {
    const sent = outputSoFar(options.onEvent)
    const { sinks } = sent
    const plan = serverPlan(request, { thinking, schemaAfterReasoning: this.#schemaAfterReasoning })
    try {
      return await this.#generate(plan, signal, sinks, startedAt, whole)
    } catch (err) {
      if (plan.kind === 'chat' && 'json_schema' in plan.body && SAMPLERS_FAILED.test(String(err))) {
        // No sampler for a schema after the reasoning: llama.cpp's parser for this template makes no
        // grammar of a schema (Kimi K2's), so the schema alone met the reply's opening the template
        // writes; or its grammar did not take that opening as the tokenizer wrote it. Found once per
        // model, before any output.
        this.#schemaAfterReasoning = false
        const alone = serverPlan(request, { thinking, schemaAfterReasoning: false })
        return this.#generate(alone, signal, sinks, startedAt, whole)
      }
      if (!unparsed(err) || sent.called()) throw err
      // The model wrote something its family's tool-call format does not read (a weak model's
      // free text), or llama.cpp reads no calls of this template: the same prompt, rendered by
      // the template (tools described by it), answered as plain text, less what went out.
      const fallback = serverPlan(request, { parseCalls: false, thinking })
      return this.#generate(fallback, signal, sent.rest(), startedAt, whole)
    }
  }

  /** A plain generation, on `/completion` so the runner may park it and resume it (parked-run.ts). */
  async #parkable(
    request: GenerateRequest,
    thinking: Thinking,
    signal: AbortSignal,
    options: GenerateOptions,
    startedAt: number,
  ): Promise<GenerateResult> {
    const { url, headers } = this.#server
    const run = { http: this.#http, url, headers, logger: this.#init.logger, yielding: options.yielding! }
    const body = await parkableBody(request, thinking, (t) => this.#template.render(t, signal))
    const answer = await parkedRun({ ...run, ...this.#parked }, body, options, signal).catch(
      (err: unknown) => (err instanceof EngineRequestError ? Promise.reject(err) : this.#failure(err)),
    )
    if (answer.decodeRate !== null) this.lastDecodeRate = answer.decodeRate
    return generateResult(answer, null, [], startedAt, performance.now())
  }

  async #generate(
    plan: ServerPlan,
    signal: AbortSignal,
    sinks: Sinks,
    startedAt: number,
    whole: boolean,
  ): Promise<GenerateResult> {
    const answer = await this.#fold(plan, signal, sinks, whole)
    const finishedAt = performance.now()
    // Output cut by max_tokens is incomplete JSON: no parse, no call.
    const json = plan.json && answer.stopType !== 'limit' ? parseJson(answer.text) : null
    const calls = plan.calls ? plan.calls(json, answer.text) : []
    if (answer.decodeRate !== null) this.lastDecodeRate = answer.decodeRate
    return generateResult(answer, plan.calls ? null : json, calls, startedAt, finishedAt)
  }

  async #fold(plan: ServerPlan, signal: AbortSignal, sinks: Sinks, whole: boolean): Promise<FoldedAnswer> {
    if (plan.kind === 'completion') {
      const prompt = plan.template ? await this.#template.render(plan.template, signal) : null
      const body = plan.completion(prompt)
      if (whole) return this.#whole('/completion', body, signal, wholeCompletion)
      return this.#stream('/completion', body, signal, (b) => foldCompletion(b, sinks))
    }
    // A reasoning budget is watched on the stream.
    if (whole && plan.limit === null) return this.#whole('/v1/chat/completions', plan.body, signal, wholeChat)
    const limit = plan.limit && { ...plan.limit, contextSize: this.contextSize }
    const answer = await this.#stream('/v1/chat/completions', plan.body, signal, (b) =>
      foldChat(b, sinks, limit),
    )
    if (answer.stopType !== 'budget') return answer
    // Left inside its reasoning past the budget: the reply goes on after it, closed, for the rest.
    const rest = await this.#fold(plan.closed(answer.reasoning, answer.generatedTokens), signal, sinks, whole)
    return continuedAnswer(answer, rest)
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<EmbedResult> {
    if (this.#init.extraArgs)
      throw new Error(`model "${this.info.name}" is split over peers: it serves generation, not embeddings`)
    return this.#request(signal, async (aborted) => {
      const startedAt = performance.now()
      this.#embedder ??= LlamaServerProcess.start({
        dir: this.backend.dir,
        env: this.backend.env,
        args: [
          ...serverArgs({ ...this.#init, slots: 1 }, this.contextSize),
          '--embeddings',
          '--pooling',
          'mean',
        ],
        onExit: (exit) => this.#crashed(exit),
      }).then((server) => ({
        server,
        http: new EngineHttp(server.url, server.headers, { maxSockets: httpThreads(1) }),
      }))
      const embedder = await this.#embedder
      const response = await embedder.http
        .post('/v1/embeddings', { input: texts }, aborted)
        .catch((err: unknown) => this.#failure(err))
      if (!response.ok) throw await refusal(response)
      const body = (await response.json()) as {
        data: { embedding: number[] }[]
        usage?: { prompt_tokens?: number }
      }
      const vectors = body.data.map((d) => d.embedding)
      return {
        vectors,
        dimension: vectors[0]?.length ?? 0,
        tokens: body.usage?.prompt_tokens ?? 0,
        total_ms: Math.round(performance.now() - startedAt),
      }
    })
  }

  /** Stops running requests (they fail with ModelUnloadedError) and ends the engine's processes. */
  async dispose(): Promise<void> {
    this.#unloaded = true
    for (const request of this.#inFlight) request.abort(this.#unloadedError())
    const embedder = this.#embedder
    this.#http.close()
    await Promise.all([
      this.#server.stop().then(() => removeParkedSlots(this.#parked)),
      embedder?.then(
        (e) => {
          e.http.close()
          return e.server.stop()
        },
        () => {},
      ),
    ])
  }

  async #stream(
    path: string,
    body: Record<string, unknown>,
    signal: AbortSignal,
    fold: (body: AsyncIterable<Uint8Array>) => Promise<FoldedAnswer>,
  ): Promise<FoldedAnswer> {
    const response = await this.#http.post(path, body, signal).catch((err: unknown) => this.#failure(err))
    if (!response.ok) throw grammarOr(await refusal(response), body)
    try {
      return await fold(response.body)
    } catch (err) {
      if (err instanceof EngineRequestError) throw grammarOr(err, body)
      return this.#failure(err)
    }
  }

  /** The answer asked for whole, on a connection kept for the next request. */
  async #whole(
    path: string,
    body: Record<string, unknown>,
    signal: AbortSignal,
    read: (body: unknown, arrivedAt: number) => FoldedAnswer,
  ): Promise<FoldedAnswer> {
    const response = await this.#http.post(path, asWhole(body), signal).catch((err) => this.#failure(err))
    if (!response.ok) throw grammarOr(await refusal(response), body)
    return read(await response.json().catch((err) => this.#failure(err)), performance.now())
  }

  /** Runs one request with its own abort (the caller's signal, or the model's unload). */
  async #request<T>(signal: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.#crash) throw await this.#crash
    if (this.#unloaded) throw this.#unloadedError()
    signal?.throwIfAborted()
    const controller = new AbortController()
    const onAbort = () => controller.abort(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    this.#inFlight.add(controller)
    this.lastUsedAt = Date.now()
    try {
      return await run(controller.signal)
    } catch (err) {
      if (this.#crash) throw await this.#crash
      // An aborted request fails with why it was aborted (the client left, the model was unloaded).
      if (controller.signal.aborted) throw controller.signal.reason
      throw err
    } finally {
      signal?.removeEventListener('abort', onAbort)
      this.#inFlight.delete(controller)
      this.lastUsedAt = Date.now()
      if (this.#inFlight.size === 0) this.#init.onIdle?.()
    }
  }

  /** A broken connection is the crash when the server died (its exit says why), else itself. */
  async #failure(err: unknown): Promise<never> {
    await Promise.race([this.#server.exited(), new Promise((r) => setTimeout(r, 1_000))])
    if (this.#crash) throw await this.#crash
    throw err instanceof EngineConnectionError ? err : new EngineConnectionError(err)
  }

  #crashed(exit: ServerExit): void {
    if (this.#unloaded || this.#crash) return
    this.#crash = this.#init.onCrash(exit, this.backend)
    // Each request then fails with the crash's error, once the blame is settled.
    for (const request of this.#inFlight) request.abort(new Error('the engine crashed'))
    // The other process of the pair goes too: the model is gone.
    this.#http.close()
    void this.#server.stop().then(() => removeParkedSlots(this.#parked))
    void this.#embedder?.then(
      (e) => e.server.stop(),
      () => {},
    )
  }

  #unloadedError(): Error {
    return new ModelProcessError('ModelUnloadedError', `model "${this.info.name}" was unloaded`)
  }
}
