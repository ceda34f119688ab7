/**
 * POST /api/runner/run: runs generation or embeddings on the runner, the same run `/v1` makes, for the CLI
 * and MCP. Asked with `accept: text/event-stream`, it streams the run's events as they happen (the
 * stream opens at the first, so a request refused at once gets its 4xx), then `answer` or `error`;
 * otherwise it answers when done. A client that goes away cancels the run.
 */
import type { FastifyInstance } from 'fastify'
import type { RequestRunner } from '../../requests/run-request.ts'
import { routes } from '../contract/index.ts'
import { sendInvalidPayload } from '../error-reply.ts'
import { clientGone, lazyEventStream } from './event-stream-reply.ts'

export function registerRunRequestRoute(app: FastifyInstance, runner: Pick<RequestRunner, 'run'>): void {
  const route = routes.runRequest
  app.post(route.path, async (request, reply) => {
    const body = route.body.safeParse(request.body ?? null)
    if (!body.success) return sendInvalidPayload(reply, 'invalid run', body.error)
    const { kind, model, input, fan_out, route: way } = body.data
    const streaming = request.headers.accept?.includes('text/event-stream') === true
    const events = lazyEventStream(reply)
    const send = (event: keyof typeof route.events, data: unknown) => {
      if (streaming) events.send(event, data)
    }
    try {
      const answer = await runner.run({
        kind,
        model,
        input,
        fanOut: fan_out,
        route: way,
        signal: clientGone(reply),
        onSubmitted: (task) => send('submitted', { task }),
        onWaiting: (reason) => send('waiting', { reason }),
        onAssigned: (peer) => send('assigned', { peer }),
        onToken: streaming ? (text) => send('token', { text }) : undefined,
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
