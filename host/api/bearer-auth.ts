import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { sendError } from './error-reply.ts'

/**
 * An `onRequest` hook that answers 401 unless the request carries `Authorization: Bearer <token>`.
 * Runs before routing, so unknown routes are not revealed to a caller without the token. `open`
 * lists the routes (method and path) that need none.
 */
export function bearerAuth(token: string, open: readonly { method: string; url: string }[] = []) {
  const expected = digest(token)
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0]
    if (open.some((route) => route.method === request.method && route.url === path)) return
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')
    // Compare digests: equal length always, so the comparison time says nothing about the token.
    if (match?.[1] && timingSafeEqual(digest(match[1]), expected)) return
    reply.header('www-authenticate', 'Bearer')
    return sendError(
      reply,
      401,
      'UnauthorizedError',
      match
        ? 'wrong API token'
        : 'missing API token: send "Authorization: Bearer <token>" (the token is in <data dir>/api-token)',
    )
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}
