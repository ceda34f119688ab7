/**
 * A run on the mesh (`POST /api/mesh/run`) read as its events arrive: the request's name, why nobody
 * took it yet, who took it, the text as it is produced, then the answer.
 */
import type { RunProgress } from '../../interface/run-event.ts'
import { type RunAnswerView, RunEventSchemas, type RunRequestBody, routes } from '../contract/index.ts'
import { type ApiTransport, type CallOptions, parseReply } from './api-transport.ts'
import { RunFailedError, StreamEndedError } from './errors.ts'

/** One event of a run, before its answer (interface/run-event.ts). */
export type RunEvent = RunProgress

export interface RunRequestOptions extends CallOptions {
  /** Each event as it arrives (awaited: what it throws ends the run, and so cancels it). */
  onEvent?: (event: RunEvent) => void | Promise<void>
}

export async function runRequest(
  http: ApiTransport,
  body: RunRequestBody,
  options: RunRequestOptions = {},
): Promise<RunAnswerView> {
  const route = routes.runRequest
  const res = await http.send('runRequest', { ...options, body, accept: 'text/event-stream' })
  if (!res.headers.get('content-type')?.includes('text/event-stream'))
    return parseReply('runRequest', route.reply, await http.body(res, options.signal))
  for await (const { event, data } of http.events(res)) {
    const value: unknown = JSON.parse(data)
    if (event === 'answer') return parseReply('runRequest', route.events.answer, value)
    if (event === 'error') {
      const { error } = parseReply('runRequest', route.events.error, value)
      throw new RunFailedError(error.name, error.message)
    }
    // A kind of event a later release adds is passed over.
    if (event in RunEventSchemas) {
      const type = event as RunEvent['type']
      await options.onEvent?.(parseReply('runRequest', RunEventSchemas[type], value) as RunEvent)
    }
  }
  throw new StreamEndedError('the run answered')
}
