/**
 * The one typed client of the daemon's management API, built on the route contract
 * (`host/api/contract/`): every request's path comes from its route, every answer is checked against
 * the route's reply schema. fetch-based (Node and browsers alike); every call takes an AbortSignal,
 * and the streaming routes come as async iterators (task events) or progress callbacks (model load).
 */
import type { z } from 'zod'
import {
  contract,
  type DnaName,
  type RecordRef,
  type Revocation,
  type ServedState,
  type ZomeFnName,
  type ZomeInput,
  type ZomeOutput,
} from '../../../zomes-bindings/index.ts'
import type { MemoryDoc, MemoryQuery } from '../../memory/memory-input.ts'
import { readEvents } from '../../text/event-stream.ts'
import {
  type AddArtifactQuery,
  type ApiErrorBody,
  ApiErrorBodySchema,
  type ArtifactView,
  type CreateCollectionBody,
  type CreateInviteBody,
  type LiveEvent,
  type ModelLoadedView,
  type PublishPolicyBody,
  type PullModelBody,
  type ReplyOf,
  type RouteName,
  routePath,
  routes,
  type SubmitTaskBody,
  type TaskEvent,
  TaskEventSchema,
  type TaskView,
} from '../contract/index.ts'
import type { ChatCompletionRequestSchema } from '../openai/chat-completions.ts'
import {
  ApiRequestError,
  connectionError,
  InvalidReplyError,
  ModelLoadFailedError,
  ModelPullFailedError,
  StreamEndedError,
} from './errors.ts'

export interface ApiClientInit {
  /** e.g. `http://127.0.0.1:4380` (what `daemon.json` names `api_url`). */
  baseUrl: string
  /** The API token (or, once they exist, an API key). */
  token: string
  /** Default: the global fetch. */
  fetch?: typeof fetch
}

export interface CallOptions {
  signal?: AbortSignal
}

export interface FollowTaskOptions extends CallOptions {
  /** Every status change and progress event, as it arrives (awaited: what it throws ends the follow). */
  onEvent?: (event: TaskEvent) => void | Promise<void>
}

export interface PullModelOptions extends CallOptions {
  /** Bytes downloaded so far, of the total. */
  onProgress?: (progress: { downloaded_bytes: number; total_bytes: number }) => void
}

export interface LoadModelOptions extends CallOptions {
  /** Fractions 0..1 while llama.cpp reads the weights (not called for a model already loaded). */
  onProgress?: (fraction: number) => void
  /** Split it over the mesh's peers when it fits on none (this peer heads it). */
  split?: boolean
}

export interface ChatOptions extends CallOptions {
  /** Each piece of text as the running peer produces it; given, the answer streams (one peer only). */
  onDelta?: (text: string) => void
}

/** A streamed chat completion, traced to the task whose signed Result holds it. */
export interface ChatAnswer {
  text: string
  /** The task's action hash (`x-ripple-task`) and the peer that ran it (`x-ripple-peer`). */
  task: string
  peer: string
  finish_reason: string | null
}

interface RequestParts extends CallOptions {
  params?: Record<string, string>
  query?: Record<string, string | number>
  body?: unknown
  /** A raw body sent as it is produced (application/octet-stream), instead of JSON. */
  stream?: AsyncIterable<Uint8Array>
  accept?: string
}

/** An artifact's bytes as the daemon streams them, with what they must hash to. */
export interface ArtifactContent {
  cid: string
  sha256: string
  size: number
  body: ReadableStream<Uint8Array>
}

export class ApiClient {
  readonly baseUrl: string
  readonly #token: string
  readonly #fetch: typeof fetch

  constructor(init: ApiClientInit) {
    this.baseUrl = init.baseUrl.replace(/\/+$/, '')
    this.#token = init.token
    this.#fetch = init.fetch ?? ((input, requestInit) => fetch(input, requestInit))
  }

  /** Trades a one-time login code (the link `ripple up` prints) for the API token; needs no token itself. */
  redeemLoginCode(code: string, options?: CallOptions): Promise<ReplyOf<'session'>> {
    return this.#json('session', { ...options, body: { code } })
  }

  /** What this client signed in with: the token, or an API key (which reads but does not change the peer). */
  whoAmI(options?: CallOptions): Promise<ReplyOf<'whoAmI'>> {
    return this.#json('whoAmI', options)
  }

  status(options?: CallOptions): Promise<ReplyOf<'status'>> {
    return this.#json('status', options)
  }

  peers(options?: CallOptions): Promise<ReplyOf<'peers'>> {
    return this.#json('peers', options)
  }

  /** Any zome function of the contract, typed by it; the answer is checked against the function's output schema. */
  async callZome<D extends DnaName, F extends ZomeFnName<D>>(
    dna: D,
    fn: F,
    payload: ZomeInput<D, F>,
    options?: CallOptions,
  ): Promise<ZomeOutput<D, F>> {
    const res = await this.#send('callZome', { ...options, params: { dna, fn }, body: payload ?? null })
    const functions: Record<string, { output: z.ZodType }> = contract[dna].functions
    return parseReply(
      `${dna}.${fn}`,
      functions[fn]!.output,
      await this.#body(res, options?.signal),
    ) as ZomeOutput<D, F>
  }

  /** Resolves once this peer holds the action, or after `timeoutMs` (at most 60 s) with `stored: false`. */
  waitForRecord(
    hash: string,
    options: CallOptions & { timeoutMs?: number } = {},
  ): Promise<ReplyOf<'waitForRecord'>> {
    const query: Record<string, number> =
      options.timeoutMs === undefined ? {} : { timeout_ms: options.timeoutMs }
    return this.#json('waitForRecord', { ...options, params: { hash }, query })
  }

  submitTask(body: SubmitTaskBody, options?: CallOptions): Promise<RecordRef> {
    return this.#json('submitTask', { ...options, body })
  }

  listTasks(options?: CallOptions): Promise<ReplyOf<'listTasks'>> {
    return this.#json('listTasks', options)
  }

  getTask(hash: string, options?: CallOptions): Promise<TaskView> {
    return this.#json('getTask', { ...options, params: { hash } })
  }

  getServed(request: string, options?: CallOptions): Promise<ServedState> {
    return this.#json('getServed', { ...options, params: { request } })
  }

  cancelTask(hash: string, reason?: string, options?: CallOptions): Promise<RecordRef> {
    return this.#json('cancelTask', {
      ...options,
      params: { hash },
      body: reason === undefined ? {} : { reason },
    })
  }

  /** The task's status changes and progress until it ends (the iterator then finishes). */
  async *taskEvents(hash: string, options?: CallOptions): AsyncGenerator<TaskEvent> {
    for await (const item of this.#taskStream(hash, options)) if ('event' in item) yield item.event
  }

  /** Follows a task until it ends, calling `onEvent` on each event; answers its final view. */
  async followTask(hash: string, options: FollowTaskOptions = {}): Promise<TaskView> {
    for await (const item of this.#taskStream(hash, options)) {
      if ('view' in item) return item.view
      await options.onEvent?.(item.event)
    }
    throw new StreamEndedError(`task ${hash} ended`)
  }

  /** The task's event stream: its events, then its final view. */
  async *#taskStream(
    hash: string,
    options?: CallOptions,
  ): AsyncGenerator<{ event: TaskEvent } | { view: TaskView }> {
    const res = await this.#send('taskEvents', { ...options, params: { hash }, accept: 'text/event-stream' })
    const schemas = routes.taskEvents.events
    for await (const { event, data } of readEvents(streamBody(res), (err) =>
      connectionError(this.baseUrl, err),
    )) {
      const body: unknown = JSON.parse(data)
      if (event === 'end') yield { view: parseReply('taskEvents', schemas.end, body) }
      else yield { event: parseReply('taskEvents', TaskEventSchema, body) }
    }
  }

  listPolicies(options?: CallOptions): Promise<ReplyOf<'listPolicies'>> {
    return this.#json('listPolicies', options)
  }

  publishPolicy(body: PublishPolicyBody, options?: CallOptions): Promise<RecordRef> {
    return this.#json('publishPolicy', { ...options, body })
  }

  listModels(options?: CallOptions): Promise<ReplyOf<'listModels'>> {
    return this.#json('listModels', options)
  }

  /**
   * Loads a model; progress streams while llama.cpp reads the weights. A file refused before loading
   * fails with its 4xx; one that fails mid-load with ModelLoadFailedError.
   */
  async loadModel(name: string, options: LoadModelOptions = {}): Promise<ModelLoadedView> {
    const res = await this.#send('loadModel', {
      ...options,
      params: { name },
      query: { split: options.split ? 1 : 0 },
      accept: 'text/event-stream',
    })
    // The daemon streams only while weights are read; a model already loaded is answered at once.
    if (!res.headers.get('content-type')?.includes('text/event-stream')) {
      return parseReply('loadModel', routes.loadModel.reply, await this.#body(res, options.signal))
    }
    const events = routes.loadModel.events
    for await (const { event, data } of readEvents(streamBody(res), (err) =>
      connectionError(this.baseUrl, err),
    )) {
      const body: unknown = JSON.parse(data)
      if (event === 'loaded') return parseReply('loadModel', events.loaded, body)
      if (event === 'error') {
        const { error } = parseReply('loadModel', events.error, body)
        throw new ModelLoadFailedError(error.name, error.message)
      }
      options.onProgress?.(parseReply('loadModel', events.progress, body).fraction)
    }
    throw new StreamEndedError(`${name} loaded`)
  }

  /**
   * Pulls a model into the models directory; progress streams while it downloads. A source refused
   * before any byte arrives fails with its 4xx/5xx; one that fails mid-download with ModelPullFailedError.
   */
  async pullModel(body: PullModelBody, options: PullModelOptions = {}): Promise<ReplyOf<'pullModel'>> {
    const res = await this.#send('pullModel', { ...options, body, accept: 'text/event-stream' })
    if (!res.headers.get('content-type')?.includes('text/event-stream')) {
      return parseReply('pullModel', routes.pullModel.reply, await this.#body(res, options.signal))
    }
    const events = routes.pullModel.events
    for await (const { event, data } of readEvents(streamBody(res), (err) =>
      connectionError(this.baseUrl, err),
    )) {
      const value: unknown = JSON.parse(data)
      if (event === 'pulled') return parseReply('pullModel', events.pulled, value)
      if (event === 'error') {
        const { error } = parseReply('pullModel', events.error, value)
        throw new ModelPullFailedError(error.name, error.message)
      }
      options.onProgress?.(parseReply('pullModel', events.progress, value))
    }
    throw new StreamEndedError('the pull ended')
  }

  unloadModel(name: string, options?: CallOptions): Promise<ReplyOf<'unloadModel'>> {
    return this.#json('unloadModel', { ...options, params: { name } })
  }

  /** A signed invite to this peer's private mesh (admins only). */
  createInvite(body: CreateInviteBody, options?: CallOptions): Promise<ReplyOf<'createInvite'>> {
    return this.#json('createInvite', { ...options, body })
  }

  /** Revokes an agent or an invite not used yet (admins only): every peer that stores it drops the agent. */
  revoke(body: Revocation, options?: CallOptions): Promise<ReplyOf<'revoke'>> {
    return this.#json('revoke', { ...options, body })
  }

  /** The dashboard's live stream (peers with recent load, tasks, models), each event a whole snapshot; runs until aborted. */
  async *liveEvents(options?: CallOptions): AsyncGenerator<LiveEvent> {
    const res = await this.#send('liveEvents', { ...options, accept: 'text/event-stream' })
    const schemas = routes.liveEvents.events
    for await (const { event, data } of readEvents(streamBody(res), (err) =>
      connectionError(this.baseUrl, err),
    )) {
      if (!(event in schemas)) continue
      const name = event as LiveEvent['event']
      yield { event: name, data: parseReply('liveEvents', schemas[name], JSON.parse(data)) } as LiveEvent
    }
  }

  /** Streams `content` to the daemon, which imports, pins and registers it. */
  addArtifact(
    content: AsyncIterable<Uint8Array>,
    query: AddArtifactQuery,
    options?: CallOptions,
  ): Promise<ArtifactView> {
    const q: Record<string, string | number> = {}
    for (const [key, value] of Object.entries(query)) if (value !== undefined) q[key] = value
    return this.#json('addArtifact', { ...options, query: q, stream: content })
  }

  listArtifacts(options?: CallOptions): Promise<ReplyOf<'listArtifacts'>> {
    return this.#json('listArtifacts', options)
  }

  showArtifact(cid: string, options?: CallOptions): Promise<ArtifactView> {
    return this.#json('showArtifact', { ...options, params: { cid } })
  }

  /** The bytes as they arrive; a transfer the daemon cuts (bytes that did not match) errors the stream. */
  async artifactContent(cid: string, options?: CallOptions): Promise<ArtifactContent> {
    const res = await this.#send('artifactContent', { ...options, params: { cid } })
    return {
      cid: res.headers.get('x-ripple-cid') ?? cid,
      sha256: res.headers.get('x-ripple-sha256') ?? '',
      size: Number(res.headers.get('content-length')),
      body: streamBody(res),
    }
  }

  pinArtifact(cid: string, options?: CallOptions): Promise<ArtifactView> {
    return this.#json('pinArtifact', { ...options, params: { cid } })
  }

  unpinArtifact(cid: string, options?: CallOptions): Promise<ArtifactView> {
    return this.#json('unpinArtifact', { ...options, params: { cid } })
  }

  createCollection(body: CreateCollectionBody, options?: CallOptions): Promise<ReplyOf<'createCollection'>> {
    return this.#json('createCollection', { ...options, body })
  }

  listCollections(options?: CallOptions): Promise<ReplyOf<'listCollections'>> {
    return this.#json('listCollections', options)
  }

  showCollection(name: string, options?: CallOptions): Promise<ReplyOf<'showCollection'>> {
    return this.#json('showCollection', { ...options, params: { name } })
  }

  /** Up to 10,000 documents a call, each a vector or a text; all are checked before any is written. */
  upsertDocs(name: string, docs: MemoryDoc[], options?: CallOptions): Promise<ReplyOf<'upsertDocs'>> {
    return this.#json('upsertDocs', { ...options, params: { name }, body: { docs } })
  }

  deleteDocs(name: string, ids: string[], options?: CallOptions): Promise<ReplyOf<'deleteDocs'>> {
    return this.#json('deleteDocs', { ...options, params: { name }, body: { ids } })
  }

  queryCollection(
    name: string,
    query: MemoryQuery,
    options?: CallOptions,
  ): Promise<ReplyOf<'queryCollection'>> {
    return this.#json('queryCollection', { ...options, params: { name }, body: query })
  }

  /**
   * A chat completion through the OpenAI-compatible endpoint (`/v1/chat/completions`), streamed when
   * `onDelta` is given: what any OpenAI client would get, read here so the dashboard needs no second
   * client.
   */
  async chatCompletion(
    request: Omit<z.input<typeof ChatCompletionRequestSchema>, 'stream' | 'stream_options'>,
    options: ChatOptions = {},
  ): Promise<ChatAnswer> {
    let res: Response
    try {
      res = await this.#fetch(`${this.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...request, stream: options.onDelta !== undefined }),
        signal: options.signal,
      })
    } catch (err) {
      if (options.signal?.aborted) throw err
      throw connectionError(this.baseUrl, err)
    }
    if (!res.ok) {
      const body = (await res.json().catch(() => null)) as {
        error?: { message?: string; type?: string; code?: string | null }
      } | null
      throw new ApiRequestError(
        res.status,
        body?.error?.code ?? body?.error?.type ?? 'HttpError',
        body?.error?.message ?? res.statusText,
      )
    }
    const answer: ChatAnswer = {
      text: '',
      task: res.headers.get('x-ripple-task') ?? '',
      peer: res.headers.get('x-ripple-peer') ?? '',
      finish_reason: null,
    }
    if (options.onDelta === undefined) {
      const whole = (await this.#body(res, options.signal)) as {
        choices: { message: { content: string | null }; finish_reason: string | null }[]
      }
      const [choice] = whole.choices
      return { ...answer, text: choice?.message.content ?? '', finish_reason: choice?.finish_reason ?? null }
    }
    if (options.onDelta === undefined) {
      const whole = (await this.#body(res, options.signal)) as {
        choices: { message: { content: string | null }; finish_reason: string | null }[]
      }
      const [choice] = whole.choices
      return { ...answer, text: choice?.message.content ?? '', finish_reason: choice?.finish_reason ?? null }
    }
    for await (const { data } of readEvents(streamBody(res), (err) => connectionError(this.baseUrl, err))) {
      if (data === '[DONE]') break
      const chunk = JSON.parse(data) as {
        choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[]
        error?: { message?: string; type?: string }
      }
      if (chunk.error)
        throw new ApiRequestError(500, chunk.error.type ?? 'StreamError', chunk.error.message ?? '')
      const [choice] = chunk.choices ?? []
      const delta = choice?.delta?.content
      if (delta) {
        answer.text += delta
        options.onDelta?.(delta)
      }
      if (choice?.finish_reason) answer.finish_reason = choice.finish_reason
    }
    return answer
  }

  async #json<R extends RouteName>(route: R, parts: RequestParts = {}): Promise<ReplyOf<R>> {
    const res = await this.#send(route, parts)
    return parseReply(route, routes[route].reply, await this.#body(res, parts.signal)) as ReplyOf<R>
  }

  /** The JSON body; a daemon that dies while sending it is a DaemonConnectionLostError. */
  async #body(res: Response, signal?: AbortSignal): Promise<unknown> {
    try {
      return await res.json()
    } catch (err) {
      if (signal?.aborted || err instanceof SyntaxError) throw err
      throw connectionError(this.baseUrl, err)
    }
  }

  /** Sends with the token; throws DaemonUnreachableError or ApiRequestError unless the daemon says ok. */
  async #send(route: RouteName, parts: RequestParts): Promise<Response> {
    const { method, path } = routes[route]
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` }
    if (parts.accept) headers.accept = parts.accept
    if (parts.body !== undefined) headers['content-type'] = 'application/json'
    if (parts.stream !== undefined) headers['content-type'] = 'application/octet-stream'
    let res: Response
    try {
      res = await this.#fetch(`${this.baseUrl}${routePath(path, parts.params, parts.query)}`, {
        method,
        headers,
        body: parts.stream ?? (parts.body === undefined ? undefined : JSON.stringify(parts.body)),
        signal: parts.signal,
        // A streamed body: fetch sends it as it is produced (Node needs this said).
        ...(parts.stream === undefined ? {} : { duplex: 'half' }),
      } as RequestInit)
    } catch (err) {
      if (parts.signal?.aborted) throw err
      throw connectionError(this.baseUrl, err)
    }
    if (!res.ok) {
      const answer = ApiErrorBodySchema.safeParse(await res.json().catch(() => null))
      const error: Partial<ApiErrorBody['error']> = answer.success ? answer.data.error : {}
      throw new ApiRequestError(
        res.status,
        error.name ?? 'HttpError',
        error.message ?? res.statusText,
        error.details,
      )
    }
    return res
  }
}

function parseReply<S extends z.ZodType>(route: string, schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new InvalidReplyError(route, parsed.error.issues)
  return parsed.data
}

function streamBody(res: Response): ReadableStream<Uint8Array> {
  if (res.body === null) throw new StreamEndedError('it opened')
  return res.body
}
