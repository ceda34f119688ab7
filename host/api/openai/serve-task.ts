/**
 * Serves one endpoint request through the mesh: runs the task (RequestRunner), sets the headers that
 * trace the answer to its signed Result (`x-ripple-task`, `x-ripple-peer`), and answers JSON or, for
 * a stream, opens server-sent events once a peer took the task and hands the run's events, then its
 * end, to the API's renderer. An error before the stream opens is an ordinary error answer; after, an
 * error event.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RunEvent, RunEventCases } from '../../interface/run-event.ts'
import { type Band, PRIORITY_HEADER, requestBand } from '../../requests/priority.ts'
import type { InferenceAnswer, InferenceRequest, RequestsPort } from '../../requests/requests-port.ts'
// The request's `caller` is declared by the auth hook; the dashboard's type check reaches this file without it.
import type {} from '../api-auth.ts'
import { keyAllowsModel } from '../api-keys.ts'
import { asEndpointError, EndpointError } from './endpoint-error.ts'
import { type GenerateOutput, incompleteOutput } from './generation.ts'
import { SseStream } from './sse.ts'

export interface SseEvent {
  data: unknown
  event?: string
}

/**
 * How one API streams: its events for the start, for each event of the run once the stream is open
 * (`render`, one case per kind: `renderEach` in interface/run-event.ts; `done` is the end, with the
 * reasoning not streamed before), and for a failure.
 */
export interface StreamRenderer {
  start(): SseEvent[]
  render(event: RunEvent): SseEvent[]
  error(err: EndpointError): SseEvent[]
}

/** The run's events that no `/v1` stream shows: the stream opens once a peer took the request. */
export const UNSHOWN = {
  submitted: () => [],
  waiting: () => [],
  assigned: () => [],
  load: () => [],
} satisfies Partial<RunEventCases<SseEvent[]>>

export interface TaskIdentity {
  task: string
  model: string
  /** Unix seconds. */
  created: number
}

export interface ServeOptions {
  kind: InferenceRequest['kind']
  model: string
  input: Record<string, unknown>
  fanOut: number
  route?: InferenceRequest['route']
  /** The coding agent's session, from its headers (requestSession): a direct request is kept by it. */
  session?: InferenceRequest['session']
  /** Present for a streamed answer. */
  stream?: (id: TaskIdentity) => StreamRenderer
  /** Told of each answer, streamed or not (its key's usage counts it). */
  onAnswer?: (answer: InferenceAnswer) => void
  /** Told of each event of the run (its key's usage counts what streamed, should no answer come). */
  onEvent?: (event: RunEvent) => void
}

/** Refuses an API key scoped to other models (403), before anything is submitted. */
export function checkModelScope(request: FastifyRequest, model: string): void {
  const key = request.caller?.key ?? null
  if (!keyAllowsModel(key, model)) {
    throw new EndpointError(
      'forbidden',
      'model_not_allowed',
      `API key ${key?.id} may not use model "${model}" (it may use: ${key?.models?.join(', ')})`,
      'model',
    )
  }
}

/**
 * The request's priority band (priority.ts): its `x-ripple-priority` header capped by its API key's
 * setting, said back in the reply's header of that name; a header naming no band is a 400.
 */
export function requestPriority(request: FastifyRequest, reply: FastifyReply): Band {
  const key = request.caller?.key ?? null
  const choice = requestBand(request.headers[PRIORITY_HEADER], key && { cap: key.priority })
  if ('invalid' in choice)
    throw new EndpointError('invalid', 'invalid_priority', choice.invalid, PRIORITY_HEADER)
  if (choice.capped) request.log.debug({ key: key?.id, band: choice.band }, 'priority capped by the key')
  reply.header(PRIORITY_HEADER, choice.band)
  return choice.band
}

/** Runs the task; answers its answer for a JSON reply, or null once a stream was served. */
export async function serveTask(
  inference: RequestsPort,
  request: FastifyRequest,
  reply: FastifyReply,
  options: ServeOptions,
): Promise<InferenceAnswer | null> {
  checkModelScope(request, options.model)
  const priority = requestPriority(request, reply)
  if (options.stream && options.fanOut > 1) {
    throw new EndpointError(
      'invalid',
      'unsupported_combination',
      'a stream shows one peer’s text as it comes; it does not go with ripple.fan_out above 1',
      'stream',
    )
  }
  const created = Math.floor(Date.now() / 1000)
  const aborted = new AbortController()
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) aborted.abort()
  })
  let task = ''
  // Opened when a peer takes the task (its first event is `assigned`).
  let stream = null as { sse: SseStream; renderer: StreamRenderer } | null
  const send = (events: SseEvent[]) => {
    for (const e of events) stream?.sse.send(e.data, e.event)
  }
  const open = (peer: string) => {
    if (stream !== null || !options.stream) return
    const renderer = options.stream({ task, model: options.model, created })
    stream = { sse: new SseStream(reply, { 'x-ripple-task': task, 'x-ripple-peer': peer }), renderer }
    send(renderer.start())
  }
  const onEvent = (event: RunEvent) => {
    options.onEvent?.(event)
    if (event.type === 'submitted') {
      task = event.task
      reply.header('x-ripple-task', task)
    } else if (event.type === 'assigned') open(event.peer)
    send(stream?.renderer.render(event) ?? [])
  }
  try {
    const answer = await inference.run({
      kind: options.kind,
      model: options.model,
      input: options.input,
      fanOut: options.fanOut,
      route: options.route,
      ...(options.session && { session: options.session }),
      priority,
      signal: aborted.signal,
      onEvent,
      // A JSON reply is the answer whole: its text need not come as it is made.
      ...(!options.stream && { whole: true }),
    })
    options.onAnswer?.(answer)
    reply.header('x-ripple-peer', answer.peer)
    if (options.kind === 'infer.generate') {
      const incomplete = incompleteOutput(answer.output as GenerateOutput)
      if (incomplete) throw incomplete
    }
    if (!options.stream) return answer
    open(answer.peer)
    onEvent({ type: 'done', output: answer.output })
    stream?.sse.end()
    return null
  } catch (err) {
    if (stream === null) throw err
    send(stream.renderer.error(asEndpointError(err)))
    stream.sse.end()
    return null
  }
}
