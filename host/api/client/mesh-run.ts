/**
 * A run on the mesh (`POST /api/mesh/run`) read as its events arrive: the request's name, why nobody
 * took it yet, who took it, the text as it is produced, then the answer.
 */
import type { z } from 'zod'
import { type MeshAnswerView, MeshRunEventSchemas, type RunOnMeshBody, routes } from '../contract/index.ts'
import { type ApiTransport, type CallOptions, parseReply } from './api-transport.ts'
import { MeshRunFailedError, StreamEndedError } from './errors.ts'

type Events = typeof MeshRunEventSchemas
/** One event of a run, before its answer. */
export type MeshRunEvent = {
  [E in Exclude<keyof Events, 'answer' | 'error'>]: { type: E } & z.output<Events[E]>
}[Exclude<keyof Events, 'answer' | 'error'>]

export interface RunOnMeshOptions extends CallOptions {
  /** Each event as it arrives (awaited: what it throws ends the run, and so cancels it). */
  onEvent?: (event: MeshRunEvent) => void | Promise<void>
}

export async function runOnMesh(
  http: ApiTransport,
  body: RunOnMeshBody,
  options: RunOnMeshOptions = {},
): Promise<MeshAnswerView> {
  const route = routes.runOnMesh
  const res = await http.send('runOnMesh', { ...options, body, accept: 'text/event-stream' })
  if (!res.headers.get('content-type')?.includes('text/event-stream'))
    return parseReply('runOnMesh', route.reply, await http.body(res, options.signal))
  for await (const { event, data } of http.events(res)) {
    const value: unknown = JSON.parse(data)
    if (event === 'answer') return parseReply('runOnMesh', route.events.answer, value)
    if (event === 'error') {
      const { error } = parseReply('runOnMesh', route.events.error, value)
      throw new MeshRunFailedError(error.name, error.message)
    }
    if (event in MeshRunEventSchemas) {
      const type = event as MeshRunEvent['type']
      const parsed = parseReply('runOnMesh', MeshRunEventSchemas[type], value)
      await options.onEvent?.({ type, ...parsed } as MeshRunEvent)
    }
  }
  throw new StreamEndedError('the run answered')
}
