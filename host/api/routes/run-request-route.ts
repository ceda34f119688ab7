/**
 * POST /api/mesh/run: runs generation or embeddings on the mesh, the same run `/v1` makes, for the CLI
 * and MCP. Asked with `accept: text/event-stream`, it streams the run's events as they happen, each
 * as it is under its type's name (interface/run-event.ts; the stream opens at the first, so a request
 * refused at once gets its 4xx), then `answer` or `error`; otherwise it answers when done. A client
 * that goes away cancels the run.
 */
import type { FastifyInstance } from 'fastify'
import type { RequestsPort } from '../../requests/requests-port.ts'
import { routes } from '../contract/index.ts'
import { sendInvalidPayload } from '../error-reply.ts'
import { clientGone, lazyEventStream } from './event-stream-reply.ts'

export function registerRunRequestRoute(app: FastifyInstance, runner: Pick<RequestsPort, 'run'>): void {
  const route = routes.runRequest
  app.post(route.path, async (request, reply) => {
    const body = route.body.safeParse(request.body ?? null)
    if (!body.success) return sendInvalidPayload(reply, 'invalid run', body.error)
    const { kind, model, input, fan_out, route: way } = body.data
    const streaming = request.headers.accept?.includes('text/event-stream') === true
    const events = lazyEventStream(reply)
    try {
      const answer = await runner.run({
        kind,
        model,
        input,
        fanOut: fan_out,
        route: way,
        signal: clientGone(reply),
        // Each event as it is, named by its type.
        onEvent: streaming ? (event) => events.send(event.type, event) : undefined,
      })
      if (!events.opened) return answer
      events.send('answer', answer)
    } catch (err) {
      if (!events.opened) throw err
      const { name, message } = err as Error
      events.send('error', { error: { name, message } })
    }
    events.end()
  })
}
