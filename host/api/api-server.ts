/**
 * The daemon's HTTP API on 127.0.0.1, guarded by a bearer token. Every bad request gets a 4xx
 * with a JSON error body and the server keeps serving.
 */
import fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import type { Startable } from '../interface/startable.ts'
import type { Logger } from '../log/logger.ts'
import { apiAuth, isLoopback } from './api-auth.ts'
import type { ApiKeyStore } from './api-keys.ts'
import type { ApiNode } from './api-node.ts'
import { API_STATUS } from './api-status.ts'
import { LiveFeed } from './dashboard/live-feed.ts'
import { dashboardRoutes, readDashboardFiles, registerDashboardFiles } from './dashboard/static-files.ts'
import { errorHandler } from './error-handler.ts'
import { sendError } from './error-reply.ts'
import { jsonBodyCheck } from './json-body-check.ts'
import { LoginCodes } from './login-codes.ts'
import { registerMcpRoute } from './mcp/mcp-http.ts'
import { EndpointUsage } from './openai/endpoint-usage.ts'
import { type ImageUrlReach, imagePolicy } from './openai/image-parts.ts'
import { registerOpenAiRoutes } from './openai/openai-routes.ts'
import { registerAliasRoutes } from './routes/aliases-route.ts'
import { registerArtifactRoutes } from './routes/artifacts-route.ts'
import { registerEventsRoute } from './routes/events-route.ts'
import { registerInviteRoutes } from './routes/invites-route.ts'
import { registerMemoryRoutes } from './routes/memory-route.ts'
import { registerModelPullRoute } from './routes/model-pull-route.ts'
import { registerModelsRoute } from './routes/models-route.ts'
import { registerOpenApiRoute } from './routes/openapi-route.ts'
import { peersPage, registerPeersRoute } from './routes/peers-route.ts'
import { registerPolicyRoutes } from './routes/policies-route.ts'
import { registerRunRequestRoute } from './routes/run-request-route.ts'
import { registerSessionRoute, SESSION_ROUTE } from './routes/session-route.ts'
import { registerStatusRoute } from './routes/status-route.ts'
import { registerTaskRoutes } from './routes/tasks-route.ts'
import { registerUsageRoute } from './routes/usage-route.ts'
import { registerWaitRoute } from './routes/wait-route.ts'
import { registerZomeRoute } from './routes/zome-route.ts'

export interface ApiServerInit {
  /** The node whose services the API serves. */
  node: ApiNode
  /** 127.0.0.1 unless the person asks for more. */
  host: string
  /** 0 picks a free port. */
  port: number
  token: string
  /** Largest request body accepted, in bytes (default 1 MiB); larger gets 413. */
  bodyLimit?: number
  /** API keys the endpoint takes besides the token; default none. */
  keys?: Pick<ApiKeyStore, 'check'>
  /** Callers off loopback get the endpoints only, with an API key only (required for a non-loopback host). */
  requireKeys?: boolean
  /** The endpoint fetches the http(s) image URLs of requests (`--allow-image-urls`); default: data URLs only. */
  allowImageUrls?: false | ImageUrlReach
  logger: Logger
}

/** Thrown when the API port is taken (another daemon, most likely). */
export class ApiPortInUseError extends Error {
  static override readonly name = 'ApiPortInUseError'
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(
      `API port ${host}:${port} is in use (another ripple daemon?); pass --api-port <port>, or 0 for any free port`,
    )
    this.name = 'ApiPortInUseError'
  }
}

/** Thrown when the API would listen beyond loopback while the management token would do for everything. */
export class ApiHostNeedsKeysError extends Error {
  static override readonly name = 'ApiHostNeedsKeysError'
  constructor(readonly host: string) {
    super(
      `the API would listen on ${host}, beyond loopback: pass --require-keys (callers from other machines then ` +
        'need an API key from `ripple keys create`, and reach only /v1 and /mcp)',
    )
    this.name = 'ApiHostNeedsKeysError'
  }
}

/** Thrown when the API's URL is asked for before it listens. */
export class ApiNotStartedError extends Error {
  static override readonly name = 'ApiNotStartedError'
  constructor() {
    super('the API server is not listening yet')
    this.name = 'ApiNotStartedError'
  }
}

/** Peers in each snapshot of the dashboard's live feed (the first page; a mesh of a thousand is paged). */
const LIVE_PEERS = 200

const NO_KEYS: Pick<ApiKeyStore, 'check'> = { check: async () => ({ ok: false, reason: 'wrong API key' }) }

export class ApiServer implements Startable {
  readonly #app: FastifyInstance
  #listeningUrl: string | null = null
  readonly #loginCodes = new LoginCodes()
  readonly #feed: LiveFeed
  readonly #init: ApiServerInit

  constructor(init: ApiServerInit) {
    this.#init = init
    const logger = init.logger.child({ component: 'api' })
    this.#app = fastify({
      loggerInstance: logger as FastifyBaseLogger,
      // One line per request would drown the daemon's own logs; errors are logged by the error handler.
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: init.bodyLimit ?? 1024 * 1024,
      // Event streams (task events, MCP) stay open: stopping the daemon must not wait for their clients.
      forceCloseConnections: true,
    })
    const dashboard = readDashboardFiles()
    this.#app.decorateRequest('caller', null)
    this.#app.addHook(
      'onRequest',
      apiAuth({
        token: init.token,
        keys: init.keys ?? NO_KEYS,
        requireKeys: init.requireKeys ?? false,
        open: [SESSION_ROUTE, ...dashboardRoutes(dashboard)],
      }),
    )
    this.#app.addHook('preValidation', jsonBodyCheck)
    const { node } = init
    const c = node.components
    const metrics = c.metrics
    if (metrics) {
      this.#app.addHook('onResponse', async (request, reply) => {
        metrics.request(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode)
      })
      this.#app.get('/metrics', async (_request, reply) =>
        reply.type(metrics.registry.contentType).send(await metrics.text()),
      )
    }
    this.#app.setErrorHandler(errorHandler(logger))
    this.#app.setNotFoundHandler((request, reply) =>
      sendError(
        reply,
        API_STATUS.not_found,
        'NotFoundError',
        `no route ${request.method} ${request.url.split('?')[0]}`,
      ),
    )
    registerSessionRoute(this.#app, this.#loginCodes, init.token)
    registerStatusRoute(this.#app, () => node.status())
    registerOpenApiRoute(this.#app, () => node.status().version)
    const peers = async () => ({ peers: await c.peers.list(), warrants: c.peers.warrants() })
    registerPeersRoute(this.#app, peers, c.peers.filled?.bind(c.peers))
    const { usage } = c
    if (usage) registerUsageRoute(this.#app, () => node.status().agent, usage, c.meshUsage ?? null)
    registerZomeRoute(this.#app, c.conductor)
    const waitForAction = c.backend?.waitForAction
    if (waitForAction) registerWaitRoute(this.#app, waitForAction)
    const { scheduler, workers, direct, splits, artifacts } = c
    if (scheduler && workers)
      registerTaskRoutes(this.#app, {
        scheduler,
        workers,
        onSubmitted: node.onSubmitted && ((hash) => node.onSubmitted?.(hash)),
        served: direct && ((request, options) => direct.served(request, options)),
        checkLeaf: direct && ((proof, options) => direct.checkLeaf(proof, options)),
      })
    if (c.policies) registerPolicyRoutes(this.#app, c.policies)
    if (node.invites) registerInviteRoutes(this.#app, node.invites)
    if (artifacts) registerArtifactRoutes(this.#app, artifacts)
    if (c.memory) registerMemoryRoutes(this.#app, c.memory)
    registerModelsRoute(this.#app, c.models, splits)
    // One count per key for /v1 and /mcp: a key's limits hold across both.
    const keyUsage = new EndpointUsage(usage)
    registerMcpRoute(this.#app, {
      apiUrl: () => this.url,
      token: init.token,
      version: () => node.status().version,
      extraHostNames: [init.host],
      limits: keyUsage,
    })
    const { pull } = node
    if (pull) registerModelPullRoute(this.#app, (request, options) => pull.call(node, request, options))
    if (c.requests) {
      registerOpenAiRoutes(this.#app, {
        inference: c.requests,
        images: imagePolicy(init.allowImageUrls ?? false),
        usage: keyUsage,
        aliases: c.aliases,
      })
      registerRunRequestRoute(this.#app, c.requests)
      const { requests } = c
      if (c.aliases) registerAliasRoutes(this.#app, c.aliases, () => requests.models())
    }
    this.#feed = new LiveFeed({
      // The mesh page shows the first page (self and the peers online first) and the counts.
      peers: async () => {
        const all = await peers()
        return { ...peersPage(all.peers, 1, LIVE_PEERS), warrants: all.warrants }
      },
      tasks: scheduler && (() => scheduler.list()),
      artifacts: artifacts ? () => artifacts.list() : undefined,
      models: async () => ({ ...(await c.models.list()), splits: splits?.views() }),
      onModelsChange: (listener) => c.models.onChange(listener),
      logger: logger.child({ component: 'live-feed' }),
    })
    registerEventsRoute(this.#app, this.#feed)
    registerDashboardFiles(this.#app, dashboard)
  }

  /** The server's Fastify instance, for reading its route tree and injecting requests without a socket. */
  get fastify(): FastifyInstance {
    return this.#app
  }

  get url(): string {
    if (this.#listeningUrl === null) throw new ApiNotStartedError()
    return this.#listeningUrl
  }

  /** The dashboard's address with a fresh one-time login code (POST /api/session trades it for the token). */
  loginUrl(): string {
    return `${this.url}/?code=${this.#loginCodes.issue()}`
  }

  async start(): Promise<void> {
    if (!isLoopback(this.#init.host) && !this.#init.requireKeys)
      throw new ApiHostNeedsKeysError(this.#init.host)
    try {
      await this.#app.listen({ host: this.#init.host, port: this.#init.port })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
        throw new ApiPortInUseError(this.#init.host, this.#init.port)
      throw err
    }
    const address = this.#app.server.address()
    if (address === null || typeof address === 'string') throw new ApiNotStartedError()
    this.#listeningUrl = `http://${this.#init.host}:${address.port}`
  }

  async stop(): Promise<void> {
    this.#feed.close()
    await this.#app.close()
    this.#listeningUrl = null
  }
}
