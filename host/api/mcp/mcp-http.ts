/**
 * `/mcp`: the MCP server over Streamable HTTP on the daemon's API listener. The API's auth hook has
 * already checked the credential (the token, or an API key); here Host and Origin must be loopback
 * names (DNS rebinding), and each MCP session gets its own server that can do exactly what its
 * credential may: with the token, everything `/api` offers; with an API key, what the key allows (see
 * `createMcpServer`). A session is bound to its credential: another one cannot use its id.
 */
import { randomUUID } from 'node:crypto'
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type Caller, digest, presentedSecret } from '../api-auth.ts'
import { ApiClient } from '../client/index.ts'
import { sendError } from '../error-reply.ts'
import type { EndpointUsage } from '../openai/endpoint-usage.ts'
import { hostAllowed, originAllowed } from './loopback-guard.ts'
import { MCP_STATUS } from './mcp-status.ts'

export const MCP_PATH = '/mcp'
/** Open sessions kept; past this the oldest is closed (clients that never say goodbye add up). */
const MAX_SESSIONS = 64

export interface McpRouteInit {
  /** The API's own URL, which the sessions' clients call. */
  apiUrl: () => string
  /** The daemon's token: a key's session calls `/api` with it, offering only the key's tools. */
  token: string
  version: () => string
  /** Names accepted in Host and Origin besides loopback ones (the address the API listens on). */
  extraHostNames: readonly string[]
  /** API keys' limits, shared with `/v1` (a key's session is held to them). */
  limits?: Pick<EndpointUsage, 'admit'>
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
        MCP_STATUS.forbidden,
        'ForbiddenHostError',
        `/mcp answers only to loopback names, not Host ${request.headers.host}`,
      )
    }
    if (!originAllowed(request.headers.origin, init.extraHostNames)) {
      return sendError(
        reply,
        MCP_STATUS.forbidden,
        'ForbiddenOriginError',
        `/mcp refuses requests from pages of ${request.headers.origin}`,
      )
    }
  }

  /** A new session whose server acts for `caller`; it is kept once the client's initialize succeeds. */
  const openSession = async (caller: Caller, owner: string) => {
    const [{ StreamableHTTPServerTransport }, { createMcpServer }] = await Promise.all([
      import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
      import('./mcp-server.ts'),
    ])
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
      api: new ApiClient({ baseUrl: init.apiUrl(), token: init.token }),
      key: caller.key,
      ...(init.limits && { limits: init.limits }),
      version: init.version(),
    })
    await server.connect(transport)
    return transport
  }

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    // The SDK is loaded on the first MCP request, not at every start of the daemon.
    const { isInitializeRequest } = await import('@modelcontextprotocol/sdk/types.js')
    // The auth hook let the request through, so it carries a credential and says whose it is.
    const caller = request.caller ?? { key: null }
    const owner = digest(presentedSecret(request.headers) ?? '').toString('hex')
    const id = request.headers['mcp-session-id']
    const session = typeof id === 'string' ? sessions.get(id) : undefined
    let transport: StreamableHTTPServerTransport
    if (session !== undefined && session.owner === owner) transport = session.transport
    else if (id === undefined && request.method === 'POST' && isInitializeRequest(request.body)) {
      transport = await openSession(caller, owner)
    } else {
      // Another credential's session is as unknown to this caller as one that never existed.
      return id === undefined
        ? sendError(
            reply,
            MCP_STATUS.invalid,
            'SessionRequiredError',
            'send initialize first (no mcp-session-id header)',
          )
        : sendError(reply, MCP_STATUS.not_found, 'SessionNotFoundError', `no MCP session ${String(id)}`)
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
