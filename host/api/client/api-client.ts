/**
 * The one typed client of the daemon's management API, built on the route contract
 * (`host/api/contract/`): every request's path comes from its route, every answer is checked against
 * the route's reply schema. fetch-based (Node and browsers alike); every call takes an AbortSignal,
 * and the streaming routes come as async iterators (task events) or progress callbacks (model load).
 * One method per route; how requests are sent and answers read is api-transport.ts's job.
 */
import type { z } from 'zod'
import {
  contract,
  type DnaName,
  type LeafProof,
  type RecordRef,
  type Revocation,
  type ZomeFnName,
  type ZomeInput,
  type ZomeOutput,
} from '../../../zomes-bindings/index.ts'
import type { MemoryDoc, MemoryQuery } from '../../memory/memory-input.ts'
import {
  type AddArtifactQuery,
  type ArtifactView,
  type CreateCollectionBody,
  type CreateInviteBody,
  type LeafCheckView,
  type LiveEvent,
  type ModelLoadedView,
  type PublishPolicyBody,
  type PullModelBody,
  type RemoveAliasBody,
  type ReplyOf,
  type RunAnswerView,
  type RunRequestBody,
  routes,
  type ServedView,
  type SetAliasBody,
  type SubmitTaskBody,
  type TaskEvent,
  TaskEventSchema,
  type TaskView,
} from '../contract/index.ts'
import {
  type ApiClientInit,
  ApiTransport,
  type CallOptions,
  parseReply,
  streamBody,
} from './api-transport.ts'
import { type ChatAnswer, type ChatOptions, type ChatRequest, chatCompletion } from './chat-completion.ts'
import { StreamEndedError } from './errors.ts'
import { type LoadModelOptions, loadModel, type PullModelOptions, pullModel } from './model-progress.ts'
import { type RunRequestOptions, runRequest } from './run-request.ts'

export interface FollowTaskOptions extends CallOptions {
  /** Every status change and progress event, as it arrives (awaited: what it throws ends the follow). */
  onEvent?: (event: TaskEvent) => void | Promise<void>
}

/** An artifact's bytes as the daemon streams them, with what they must hash to. */
export interface ArtifactContent {
  cid: string
  sha256: string
  size: number
  body: ReadableStream<Uint8Array>
}

export class ApiClient {
  readonly #http: ApiTransport

  constructor(init: ApiClientInit) {
    this.#http = new ApiTransport(init)
  }

  /** The daemon's URL, without a trailing slash. */
  get baseUrl(): string {
    return this.#http.baseUrl
  }

  /** Trades a one-time login code (the link `ripple up` prints) for the API token; needs no token itself. */
  redeemLoginCode(code: string, options?: CallOptions): Promise<ReplyOf<'session'>> {
    return this.#http.json('session', { ...options, body: { code } })
  }

  /** What this client signed in with: the token, or an API key (which reads but does not change the peer). */
  whoAmI(options?: CallOptions): Promise<ReplyOf<'whoAmI'>> {
    return this.#http.json('whoAmI', options)
  }

  status(options?: CallOptions): Promise<ReplyOf<'status'>> {
    return this.#http.json('status', options)
  }

  /** The API's OpenAPI 3.1 document. */
  openApi(options?: CallOptions): Promise<ReplyOf<'openApi'>> {
    return this.#http.json('openApi', options)
  }

  /** A page of the peers (default the first 100) and the count of members. */
  peers(options?: CallOptions & { page?: number; limit?: number }): Promise<ReplyOf<'peers'>> {
    const { page, limit, ...call } = options ?? {}
    return this.#http.json('peers', {
      ...call,
      query: { ...(page === undefined ? {} : { page }), ...(limit === undefined ? {} : { limit }) },
    })
  }

  /** Usage from this peer's signed leaves; `since`: Unix ms (its hour on); `by`: also summed by agent session. */
  usage(since?: number, options?: CallOptions & { by?: 'session' }): Promise<ReplyOf<'usage'>> {
    const { by, ...call } = options ?? {}
    return this.#http.json('usage', {
      ...call,
      query: { ...(since === undefined ? {} : { since }), ...(by && { by }) },
    })
  }

  /** As `usage`, with what each online peer signed about this member (`mesh`). */
  meshUsage(since?: number, options?: CallOptions): Promise<ReplyOf<'usage'>> {
    return this.#http.json('usage', {
      ...options,
      query: { mesh: '1', ...(since === undefined ? {} : { since }) },
    })
  }

  /** Any zome function of the contract, typed by it; the answer is checked against the function's output schema. */
  async callZome<D extends DnaName, F extends ZomeFnName<D>>(
    dna: D,
    fn: F,
    payload: ZomeInput<D, F>,
    options?: CallOptions,
  ): Promise<ZomeOutput<D, F>> {
    const res = await this.#http.send('callZome', { ...options, params: { dna, fn }, body: payload ?? null })
    const functions: Record<string, { output: z.ZodType }> = contract[dna].functions
    return parseReply(
      `${dna}.${fn}`,
      functions[fn]!.output,
      await this.#http.body(res, options?.signal),
    ) as ZomeOutput<D, F>
  }

  /** Resolves once this peer holds the action, or after `timeoutMs` (at most 60 s) with `stored: false`. */
  waitForRecord(
    hash: string,
    options: CallOptions & { timeoutMs?: number } = {},
  ): Promise<ReplyOf<'waitForRecord'>> {
    const query: Record<string, number> =
      options.timeoutMs === undefined ? {} : { timeout_ms: options.timeoutMs }
    return this.#http.json('waitForRecord', { ...options, params: { hash }, query })
  }

  submitTask(body: SubmitTaskBody, options?: CallOptions): Promise<RecordRef> {
    return this.#http.json('submitTask', { ...options, body })
  }

  listTasks(options?: CallOptions): Promise<ReplyOf<'listTasks'>> {
    return this.#http.json('listTasks', options)
  }

  getTask(hash: string, options?: CallOptions): Promise<TaskView> {
    return this.#http.json('getTask', { ...options, params: { hash } })
  }

  getServed(request: string, options?: CallOptions): Promise<ServedView> {
    return this.#http.json('getServed', { ...options, params: { request } })
  }

  checkLeaf(proof: LeafProof, options?: CallOptions): Promise<LeafCheckView> {
    return this.#http.json('checkLeaf', { ...options, body: proof })
  }

  cancelTask(hash: string, reason?: string, options?: CallOptions): Promise<RecordRef> {
    return this.#http.json('cancelTask', {
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
    const res = await this.#http.send('taskEvents', {
      ...options,
      params: { hash },
      accept: 'text/event-stream',
    })
    const schemas = routes.taskEvents.events
    for await (const { event, data } of this.#http.events(res)) {
      const body: unknown = JSON.parse(data)
      if (event === 'end') yield { view: parseReply('taskEvents', schemas.end, body) }
      else yield { event: parseReply('taskEvents', TaskEventSchema, body) }
    }
  }

  listPolicies(options?: CallOptions): Promise<ReplyOf<'listPolicies'>> {
    return this.#http.json('listPolicies', options)
  }

  publishPolicy(body: PublishPolicyBody, options?: CallOptions): Promise<RecordRef> {
    return this.#http.json('publishPolicy', { ...options, body })
  }

  listModels(options?: CallOptions): Promise<ReplyOf<'listModels'>> {
    return this.#http.json('listModels', options)
  }

  listAliases(options?: CallOptions): Promise<ReplyOf<'listAliases'>> {
    return this.#http.json('listAliases', options)
  }

  setAlias(body: SetAliasBody, options?: CallOptions): Promise<ReplyOf<'setAlias'>> {
    return this.#http.json('setAlias', { ...options, body })
  }

  removeAlias(body: RemoveAliasBody, options?: CallOptions): Promise<ReplyOf<'removeAlias'>> {
    return this.#http.json('removeAlias', { ...options, body })
  }

  /**
   * Loads a model; progress streams while llama.cpp reads the weights. A file refused before loading
   * fails with its 4xx; one that fails mid-load with ModelLoadFailedError.
   */
  loadModel(name: string, options: LoadModelOptions = {}): Promise<ModelLoadedView> {
    return loadModel(this.#http, name, options)
  }

  /**
   * Pulls a model into the models directory; progress streams while it downloads. A source refused
   * before any byte arrives fails with its 4xx/5xx; one that fails mid-download with ModelPullFailedError.
   */
  pullModel(body: PullModelBody, options: PullModelOptions = {}): Promise<ReplyOf<'pullModel'>> {
    return pullModel(this.#http, body, options)
  }

  unloadModel(name: string, options?: CallOptions): Promise<ReplyOf<'unloadModel'>> {
    return this.#http.json('unloadModel', { ...options, params: { name } })
  }

  /** A signed invite to this peer's private mesh (admins only). */
  createInvite(body: CreateInviteBody, options?: CallOptions): Promise<ReplyOf<'createInvite'>> {
    return this.#http.json('createInvite', { ...options, body })
  }

  /** Revokes an agent or an invite not used yet (admins only): every peer that stores it drops the agent. */
  revoke(body: Revocation, options?: CallOptions): Promise<ReplyOf<'revoke'>> {
    return this.#http.json('revoke', { ...options, body })
  }

  /** The dashboard's live stream (peers with recent load, tasks, models), each event a whole snapshot; runs until aborted. */
  async *liveEvents(options?: CallOptions): AsyncGenerator<LiveEvent> {
    const res = await this.#http.send('liveEvents', { ...options, accept: 'text/event-stream' })
    const schemas = routes.liveEvents.events
    for await (const { event, data } of this.#http.events(res)) {
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
    return this.#http.json('addArtifact', { ...options, query: q, stream: content })
  }

  listArtifacts(options?: CallOptions): Promise<ReplyOf<'listArtifacts'>> {
    return this.#http.json('listArtifacts', options)
  }

  showArtifact(cid: string, options?: CallOptions): Promise<ArtifactView> {
    return this.#http.json('showArtifact', { ...options, params: { cid } })
  }

  /** The bytes as they arrive; a transfer the daemon cuts (bytes that did not match) errors the stream. */
  async artifactContent(cid: string, options?: CallOptions): Promise<ArtifactContent> {
    const res = await this.#http.send('artifactContent', { ...options, params: { cid } })
    return {
      cid: res.headers.get('x-ripple-cid') ?? cid,
      sha256: res.headers.get('x-ripple-sha256') ?? '',
      size: Number(res.headers.get('content-length')),
      body: streamBody(res),
    }
  }

  pinArtifact(cid: string, options?: CallOptions): Promise<ArtifactView> {
    return this.#http.json('pinArtifact', { ...options, params: { cid } })
  }

  unpinArtifact(cid: string, options?: CallOptions): Promise<ArtifactView> {
    return this.#http.json('unpinArtifact', { ...options, params: { cid } })
  }

  createCollection(body: CreateCollectionBody, options?: CallOptions): Promise<ReplyOf<'createCollection'>> {
    return this.#http.json('createCollection', { ...options, body })
  }

  listCollections(options?: CallOptions): Promise<ReplyOf<'listCollections'>> {
    return this.#http.json('listCollections', options)
  }

  showCollection(name: string, options?: CallOptions): Promise<ReplyOf<'showCollection'>> {
    return this.#http.json('showCollection', { ...options, params: { name } })
  }

  /** Up to 10,000 documents a call, each a vector or a text; all are checked before any is written. */
  upsertDocs(name: string, docs: MemoryDoc[], options?: CallOptions): Promise<ReplyOf<'upsertDocs'>> {
    return this.#http.json('upsertDocs', { ...options, params: { name }, body: { docs } })
  }

  deleteDocs(name: string, ids: string[], options?: CallOptions): Promise<ReplyOf<'deleteDocs'>> {
    return this.#http.json('deleteDocs', { ...options, params: { name }, body: { ids } })
  }

  queryCollection(
    name: string,
    query: MemoryQuery,
    options?: CallOptions,
  ): Promise<ReplyOf<'queryCollection'>> {
    return this.#http.json('queryCollection', { ...options, params: { name }, body: query })
  }

  /** Runs generation or embeddings on the mesh, as `/v1` does; its events stream to `onEvent`. */
  runRequest(body: RunRequestBody, options?: RunRequestOptions): Promise<RunAnswerView> {
    return runRequest(this.#http, body, options)
  }

  /** A chat completion through the OpenAI-compatible endpoint, streamed when `onDelta` is given. */
  chatCompletion(request: ChatRequest, options?: ChatOptions): Promise<ChatAnswer> {
    return chatCompletion(this.#http, request, options)
  }
}
