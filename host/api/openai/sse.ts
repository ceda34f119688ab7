/** Server-sent events on a hijacked Fastify reply: the status line and headers once, then events. */
import type { ServerResponse } from 'node:http'
import type { FastifyReply } from 'fastify'

export class SseStream {
  readonly #raw: ServerResponse

  constructor(reply: FastifyReply, headers: Record<string, string>) {
    reply.hijack()
    this.#raw = reply.raw
    this.#raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      ...headers,
    })
  }

  /** `data: <json>`, with an `event:` line when named (the Responses and Anthropic APIs name theirs). */
  send(data: unknown, event?: string): void {
    if (this.#raw.writableEnded) return
    this.#raw.write(
      `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`,
    )
  }

  end(): void {
    if (!this.#raw.writableEnded) this.#raw.end()
  }
}
