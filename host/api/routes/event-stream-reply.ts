/**
 * Replies that stream server-sent events while the work runs (a model load or pull, a run on the
 * mesh), and stop that work when their client goes away.
 */
import type { ServerResponse } from 'node:http'
import type { FastifyReply } from 'fastify'

/** Aborted when the client goes away before its answer was sent. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const gone = new AbortController()
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) gone.abort(new DOMException('the client went away', 'AbortError'))
  })
  return gone.signal
}

/** A server-sent event stream on `reply`, opened (the reply hijacked) by its first event. */
export function lazyEventStream(reply: FastifyReply) {
  let stream: ServerResponse | null = null
  return {
    get opened(): boolean {
      return stream !== null
    },
    send(event: string, data: unknown): void {
      if (stream === null) {
        reply.hijack()
        stream = reply.raw
        stream.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      }
      stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    },
    end(): void {
      stream?.end()
    },
  }
}
