/**
 * `/mcp`: the MCP server over Streamable HTTP on the daemon's API listener. The API's bearer hook has
 * already checked the credential; here Host and Origin must be loopback names (DNS rebinding), and
 * each MCP session gets its own server whose API client carries the credential the session was opened
 * with, so the session can do exactly what that credential may (the API token now; an API key, with
 * its own permissions, once keys exist). A session is bound to its credential: another one cannot
 * use its id.
 */
import { randomUUID } from 'node:crypto'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { bearerOf, digest } from '../bearer-auth.ts'
import { ApiClient } from '../client/index.ts'
import { sendError } from '../error-reply.ts'
import { hostAllowed, originAllowed } from './loopback-guard.ts'
import { createMcpServer } from './mcp-server.ts'

export const MCP_PATH = '/mcp'
/** Open sessions kept; past this the oldest is closed (clients that never say goodbye add up). */
const MAX_SESSIONS = 64

export interface McpRouteInit {
  /** The API's own URL, which the sessions' clients call with the caller's credential. */
  apiUrl: () => string
  version: () => string
  /** Names accepted in Host and Origin besides loopback ones (the address the API listens on). */
  extraHostNames: readonly string[]
}

interface Session {
  transport: StreamableHTTPServerTransport
  /** Digest of the credential that opened it. */
  owner: string
}

export function registerMcpRoute(app: FastifyInstance, init: McpRouteInit): void {
  const sessions = new Map<string, Session>()

  const guard = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!hostAllowed(request.headers.host, init.extraHostNames)) {
      return sendError(
        reply,
        403,
        'ForbiddenHostError',
        `/mcp answers only to loopback names, not Host ${request.headers.host}`,
      )
    }
    if (!originAllowed(request.headers.origin, init.extraHostNames)) {
      return sendError(
        reply,
        403,
        'ForbiddenOriginError',
        `/mcp refuses requests from pages of ${request.headers.origin}`,
      )
    }
  }

  /** A new session whose server acts with `bearer`; it is kept once the client's initialize succeeds. */
  const openSession = async (bearer: string, owner: string) => {
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sessionId) => {
        sessions.set(sessionId, { transport, owner })
        const [oldest] = sessions.values()
        if (sessions.size > MAX_SESSIONS) void oldest?.transport.close()
      },
    })
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId)
    }
    const server = createMcpServer({
      api: new ApiClient({ baseUrl: init.apiUrl(), token: bearer }),
      version: init.version(),
    })
    await server.connect(transport)
    return transport
  }

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    // The bearer hook let the request through, so it carries a credential.
    const bearer = bearerOf(request) ?? ''
    const owner = digest(bearer).toString('hex')
    const id = request.headers['mcp-session-id']
    const session = typeof id === 'string' ? sessions.get(id) : undefined
    let transport: StreamableHTTPServerTransport
    if (session !== undefined && session.owner === owner) transport = session.transport
    else if (id === undefined && request.method === 'POST' && isInitializeRequest(request.body)) {
      transport = await openSession(bearer, owner)
    } else {
      // Another credential's session is as unknown to this caller as one that never existed.
      return id === undefined
        ? sendError(reply, 400, 'SessionRequiredError', 'send initialize first (no mcp-session-id header)')
        : sendError(reply, 404, 'SessionNotFoundError', `no MCP session ${String(id)}`)
    }
    reply.hijack()
    await transport.handleRequest(request.raw, reply.raw, request.body)
  }

  for (const method of ['GET', 'POST', 'DELETE'] as const) {
    app.route({ method, url: MCP_PATH, onRequest: guard, handler: handle })
  }
  app.addHook('onClose', async () => {
    await Promise.all([...sessions.values()].map((s) => s.transport.close()))
  })
}
