/** GET /api/events: the dashboard's one live stream, as server-sent events until the client leaves. */
import type { FastifyInstance } from 'fastify'
import type { LiveEvent } from '../contract/index.ts'
import { routes } from '../contract/index.ts'
import type { LiveFeed } from '../dashboard/live-feed.ts'

/** Keeps idle proxies and clients from closing a quiet stream. */
const KEEPALIVE_MS = 15_000

export function registerEventsRoute(app: FastifyInstance, feed: LiveFeed): void {
  app.get(routes.liveEvents.path, async (_request, reply) => {
    reply.hijack()
    const raw = reply.raw
    raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    })
    const unsubscribe = feed.subscribe(({ event, data }: LiveEvent) => {
      raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    })
    const keepalive = setInterval(() => raw.write(': keepalive\n\n'), KEEPALIVE_MS)
    raw.on('close', () => {
      clearInterval(keepalive)
      unsubscribe()
    })
  })
}
