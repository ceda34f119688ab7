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
    const presented = bearerOf(request)
    // Compare digests: equal length always, so the comparison time says nothing about the token.
    if (presented !== null && timingSafeEqual(digest(presented), expected)) return
    reply.header('www-authenticate', 'Bearer')
    return sendError(
      reply,
      401,
      'UnauthorizedError',
      presented !== null
        ? 'wrong API token'
        : 'missing API token: send "Authorization: Bearer <token>" (the token is in <data dir>/api-token)',
    )
  }
}

/** The credential a request carried (`Authorization: Bearer <it>`), or null. */
export function bearerOf(request: FastifyRequest): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1] ?? null
}

export function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}
