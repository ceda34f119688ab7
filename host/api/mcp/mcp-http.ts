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
  credential: string
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

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    // The bearer hook let the request through, so it carries a credential.
    const credential = digest(bearerOf(request) ?? '').toString('hex')
    const id = request.headers['mcp-session-id']
    const session = typeof id === 'string' ? sessions.get(id) : undefined
    if (session && session.credential !== credential) {
      return sendError(reply, 404, 'SessionNotFoundError', 'no such MCP session for this credential')
    }
    let transport = session?.transport
    if (!transport) {
      if (id !== undefined || request.method !== 'POST' || !isInitializeRequest(request.body)) {
        return sendError(
          reply,
          id === undefined ? 400 : 404,
          'SessionNotFoundError',
          id === undefined ? 'send initialize first (no mcp-session-id)' : `no MCP session ${String(id)}`,
        )
      }
      transport = await openSession(bearerOf(request) ?? '', credential)
    }
    reply.hijack()
    await transport.handleRequest(request.raw, reply.raw, request.body)
  }

  const openSession = async (bearer: string, credential: string) => {
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sessionId) => {
        sessions.set(sessionId, { transport, credential })
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

  for (const method of ['GET', 'POST', 'DELETE'] as const) {
    app.route({ method, url: MCP_PATH, onRequest: guard, handler: handle })
  }
  app.addHook('onClose', async () => {
    await Promise.all([...sessions.values()].map((s) => s.transport.close()))
  })
}
