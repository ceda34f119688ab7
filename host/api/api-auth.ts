/**
 * Who may call what. The management API (`/api/...`) takes the daemon's token only. The inference
 * endpoint (`/v1`) and MCP (`/mcp`, where a key's session gets only the tools its key allows) take the
 * token or an API key (`ripple keys create`), sent as
 * `Authorization: Bearer <key>` or Anthropic's `x-api-key: <key>`; a key may be scoped to models
 * (checked by the route, which knows the model). With `requireKeys` (an API open beyond loopback),
 * a caller from another machine gets only the endpoints, and only with an API key: the token, which
 * controls the whole peer, never travels the network.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ApiKeyStore, ApiKeyView } from './api-keys.ts'
import { bearerAuth } from './bearer-auth.ts'
import { sendError } from './error-reply.ts'
import { anthropicErrorBody, EndpointError, openAiErrorBody } from './openai/endpoint-error.ts'

/** Who made an endpoint request: the token's holder (key null) or an API key. */
export interface Caller {
  key: ApiKeyView | null
}

export interface AuthInit {
  token: string
  keys: Pick<ApiKeyStore, 'check'>
  /** Callers off loopback: endpoints only, with an API key only. */
  requireKeys: boolean
  /** Management routes that need no credential (method and path). */
  open?: readonly { method: string; url: string }[]
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on endpoint requests (`/v1`, `/mcp`) once authenticated. */
    caller: Caller | null
  }
}

/** Paths that take API keys. */
export function isEndpointPath(url: string): boolean {
  return /^\/(v1|mcp)(\/|\?|$)/.test(url)
}

export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && /^(127\.|::1$|::ffff:127\.|localhost$)/.test(address)
}

/**
 * Checks the credentials an endpoint request carries: the caller, or an EndpointError (401) saying
 * what is wrong.
 */
export async function authenticate(
  init: AuthInit,
  headers: IncomingHttpHeaders,
  remoteAddress: string | undefined,
): Promise<Caller | EndpointError> {
  const secret = presentedSecret(headers)
  if (!secret) {
    return new EndpointError(
      401,
      'missing_api_key',
      'missing API key: send "Authorization: Bearer <key>" (or "x-api-key: <key>"); make one with `ripple keys create`',
    )
  }
  const tokenAllowed = !init.requireKeys || isLoopback(remoteAddress)
  if (tokenAllowed && timingSafeEqual(digest(secret), digest(init.token))) return { key: null }
  const check = await init.keys.check(secret)
  return check.ok ? { key: check.key } : new EndpointError(401, 'invalid_api_key', check.reason)
}

/** The secret a request carries: `Authorization: Bearer <it>` or Anthropic's `x-api-key: <it>`. */
export function presentedSecret(headers: IncomingHttpHeaders): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1]
  const apiKey = headers['x-api-key']
  return bearer ?? (typeof apiKey === 'string' ? apiKey.trim() : undefined)
}

/** The `onRequest` hook for the whole API. */
export function apiAuth(init: AuthInit) {
  const management = bearerAuth(init.token, init.open)
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isEndpointPath(request.url)) {
      if (init.requireKeys && !isLoopback(request.socket.remoteAddress))
        return sendError(reply, 403, 'ForbiddenError', 'the management API answers on loopback only')
      return management(request, reply)
    }
    const caller = await authenticate(init, request.headers, request.socket.remoteAddress)
    if (!(caller instanceof EndpointError)) {
      request.caller = caller
      return
    }
    reply.header('www-authenticate', 'Bearer')
    if (request.url.startsWith('/mcp'))
      return sendError(reply, caller.status, 'UnauthorizedError', caller.message)
    return reply
      .code(caller.status)
      .type('application/json')
      .send(request.url.startsWith('/v1/messages') ? anthropicErrorBody(caller) : openAiErrorBody(caller))
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}
