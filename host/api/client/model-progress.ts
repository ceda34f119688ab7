/**
 * The model routes that stream their progress (`loadModel`, `pullModel`): they answer at once, or (the
 * daemon streams only while the work runs) stream progress and then the `done` event, which carries the
 * same reply; an `error` event is thrown as the route's failure.
 */
import type { z } from 'zod'
import type { LongOperationOptions } from '../../interface/progress.ts'
import { type ModelLoadedView, type PullModelBody, type ReplyOf, routes } from '../contract/index.ts'
import { type ApiTransport, parseReply, type RequestParts } from './api-transport.ts'
import { ModelLoadFailedError, ModelPullFailedError, StreamEndedError } from './errors.ts'

/** Progress: the bytes downloaded so far, of the total. */
export type PullModelOptions = LongOperationOptions

/** Progress: how much of the weights llama.cpp has read (none for a model already loaded). */
export interface LoadModelOptions extends LongOperationOptions {
  /** Split it over the mesh's peers when it fits on none (this peer heads it). */
  split?: boolean
}

/** How a model route streams: its progress events, then its reply as the `done` event or an error. */
interface ProgressStream<R extends z.ZodType> {
  done: string
  reply: R
  /** What an error event is thrown as. */
  failed: new (
    errorName: string,
    message: string,
  ) => Error
  /** What the stream ended before, for StreamEndedError. */
  what: string
}

export function loadModel(
  http: ApiTransport,
  name: string,
  options: LoadModelOptions = {},
): Promise<ModelLoadedView> {
  return progressReply(
    http,
    'loadModel',
    { done: 'loaded', reply: routes.loadModel.reply, failed: ModelLoadFailedError, what: `${name} loaded` },
    { ...options, params: { name }, query: { split: options.split ? 1 : 0 } },
    options.onProgress,
  )
}

export function pullModel(
  http: ApiTransport,
  body: PullModelBody,
  options: PullModelOptions = {},
): Promise<ReplyOf<'pullModel'>> {
  return progressReply(
    http,
    'pullModel',
    { done: 'pulled', reply: routes.pullModel.reply, failed: ModelPullFailedError, what: 'the pull ended' },
    { ...options, body },
    options.onProgress,
  )
}

async function progressReply<R extends z.ZodType>(
  http: ApiTransport,
  route: 'loadModel' | 'pullModel',
  stream: ProgressStream<R>,
  parts: RequestParts,
  onProgress: LongOperationOptions['onProgress'],
): Promise<z.output<R>> {
  const res = await http.send(route, { ...parts, accept: 'text/event-stream' })
  if (!res.headers.get('content-type')?.includes('text/event-stream')) {
    return parseReply(route, stream.reply, await http.body(res, parts.signal))
  }
  for await (const { event, data } of http.events(res)) {
    const body: unknown = JSON.parse(data)
    if (event === stream.done) return parseReply(route, stream.reply, body)
    if (event === 'error') {
      const { error } = parseReply(route, routes[route].events.error, body)
      throw new stream.failed(error.name, error.message)
    }
    onProgress?.(parseReply(route, routes[route].events.progress, body))
  }
  throw new StreamEndedError(stream.what)
}
