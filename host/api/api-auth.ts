/**
 * Who may call what. The daemon's token controls the peer: every route takes it. An API key
 * (`ripple keys create`), sent as `Authorization: Bearer <key>` or Anthropic's `x-api-key: <key>`,
 * reaches the endpoint (`/v1`) and MCP (`/mcp`, where a key's session gets only the tools its key
 * allows) and nothing else, scoped to its models (checked by the route, which knows the model),
 * whatever the address the API listens on: the management API (`/api/...`, `/api/events`,
 * `/metrics`: the dashboard's data) holds other callers' prompts and the mesh's layout, which a key
 * handed to an agent must not read. With `requireKeys` (an API open beyond loopback), a caller from
 * another machine needs an API key: the token never travels the network, so such a caller reaches
 * `/v1` and `/mcp` only.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { answerFor } from '../interface/failure-kind.ts'
import type { ApiKeyStore, ApiKeyView } from './api-keys.ts'
import { API_STATUS } from './api-status.ts'
import { sendError } from './error-reply.ts'
import { MCP_STATUS } from './mcp/mcp-status.ts'
import { EndpointError, endpointReply } from './openai/endpoint-error.ts'

/** Who made a request: the token's holder (key null) or an API key. */
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
    /** Set once the request is authenticated (null on the routes that need no credential). */
    caller: Caller | null
  }
}

/** Paths that take API keys: the endpoint and MCP. */
export function isEndpointPath(url: string): boolean {
  return /^\/(v1|mcp)(\/|\?|$)/.test(url)
}

export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && /^(127\.|::1$|::ffff:127\.|localhost$)/.test(address)
}

const TOKEN_HERE_ONLY =
  'the API token works on this machine only: from another machine, use an API key (`ripple keys create`) on /v1 and /mcp'

/**
 * Checks the credentials a request carries: the caller, or an EndpointError (unauthenticated, or
 * forbidden for the token sent from another machine) saying what is wrong.
 */
export async function authenticate(
  init: AuthInit,
  headers: IncomingHttpHeaders,
  remoteAddress: string | undefined,
): Promise<Caller | EndpointError> {
  const secret = presentedSecret(headers)
  if (!secret) {
    return new EndpointError(
      'forbidden/unauthenticated',
      'missing_api_key',
      'missing API key: send "Authorization: Bearer <key>" (or "x-api-key: <key>"); make one with `ripple keys create`',
    )
  }
  if (timingSafeEqual(digest(secret), digest(init.token))) {
    if (!init.requireKeys || isLoopback(remoteAddress)) return { key: null }
    return new EndpointError('forbidden', 'token_not_allowed', TOKEN_HERE_ONLY)
  }
  const check = await init.keys.check(secret)
  return check.ok
    ? { key: check.key }
    : new EndpointError('forbidden/unauthenticated', 'invalid_api_key', check.reason)
}

/** The secret a request carries: `Authorization: Bearer <it>` or Anthropic's `x-api-key: <it>`. */
export function presentedSecret(headers: IncomingHttpHeaders): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1]
  const apiKey = headers['x-api-key']
  return bearer ?? (typeof apiKey === 'string' ? apiKey.trim() : undefined)
}

/** The `onRequest` hook for the whole API. */
export function apiAuth(init: AuthInit) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? ''
    const remote = request.socket.remoteAddress
    if (init.open?.some((route) => route.method === request.method && route.url === path)) {
      // The login code is traded for the token, which works on this machine only.
      if (!init.requireKeys || isLoopback(remote) || !path.startsWith('/api/')) return
      return sendError(reply, API_STATUS.forbidden, 'ForbiddenError', TOKEN_HERE_ONLY)
    }
    const caller = await authenticate(init, request.headers, remote)
    if (caller instanceof EndpointError) {
      reply.header('www-authenticate', 'Bearer')
      if (path.startsWith('/v1')) {
        const { status, body } = endpointReply(path, caller)
        return reply.code(status).send(body)
      }
      const name = caller.failureKind === 'forbidden' ? 'ForbiddenError' : 'UnauthorizedError'
      if (path.startsWith('/mcp'))
        return sendError(reply, answerFor(MCP_STATUS, caller.failureKind), name, caller.message)
      return sendError(reply, answerFor(API_STATUS, caller.failureKind), name, managementRefusal(caller))
    }
    if (caller.key !== null && !isEndpointPath(request.url)) {
      return sendError(
        reply,
        API_STATUS.forbidden,
        'KeyNotAllowedError',
        `API key ${caller.key.id} reaches /v1 and /mcp only: ${path} (like all of /api, /metrics and the ` +
          'dashboard) takes the API token, on this machine (`ripple token`)',
      )
    }
    request.caller = caller
  }
}

/** A refusal on the management API speaks of the token first: that is what its callers hold. */
function managementRefusal(refused: EndpointError): string {
  if (refused.code === 'missing_api_key')
    return 'missing API token: send "Authorization: Bearer <token>" (the token is in <data dir>/api-token; `ripple token` prints it)'
  return refused.message === 'wrong API key' ? 'wrong API token or key' : refused.message
}

export function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}
