/**
 * The daemon's HTTP API on 127.0.0.1, guarded by a bearer token. Every bad request gets a 4xx
 * with a JSON error body and the server keeps serving.
 */
import fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import type { ConductorPort } from '../conductor/port.ts'
import type { ModelManager } from '../inference/model-manager.ts'
import type { Startable } from '../interface/startable.ts'
import type { Logger } from '../log/logger.ts'
import type { DaemonMetrics } from '../metrics/daemon-metrics.ts'
import type { SplitService } from '../split/split-service.ts'
import { apiAuth, isLoopback } from './api-auth.ts'
import type { ApiKeyStore } from './api-keys.ts'
import type { PeersReply, StatusView } from './contract/index.ts'
import type { LiveFeed } from './dashboard/live-feed.ts'
import { dashboardRoutes, readDashboardFiles, registerDashboardFiles } from './dashboard/static-files.ts'
import { errorHandler } from './error-handler.ts'
import { sendError } from './error-reply.ts'
import { jsonBodyCheck } from './json-body-check.ts'
import { LoginCodes } from './login-codes.ts'
import { registerMcpRoute } from './mcp/mcp-http.ts'
import { type OpenAiApi, registerOpenAiRoutes } from './openai/openai-routes.ts'
import { type ArtifactApi, registerArtifactRoutes } from './routes/artifacts-route.ts'
import { registerEventsRoute } from './routes/events-route.ts'
import { type InviteApi, registerInviteRoutes } from './routes/invites-route.ts'
import { type MemoryApi, registerMemoryRoutes } from './routes/memory-route.ts'
import { type ModelPuller, registerModelPullRoute } from './routes/model-pull-route.ts'
import { registerModelsRoute } from './routes/models-route.ts'
import { registerPeersRoute } from './routes/peers-route.ts'
import { type PolicyApi, registerPolicyRoutes } from './routes/policies-route.ts'
import { registerSessionRoute, SESSION_ROUTE } from './routes/session-route.ts'
import { registerStatusRoute } from './routes/status-route.ts'
import { registerTaskRoutes, type TaskApi } from './routes/tasks-route.ts'
import { type ActionWaiter, registerWaitRoute } from './routes/wait-route.ts'
import { registerZomeRoute } from './routes/zome-route.ts'

export interface ApiServerInit {
  /** 127.0.0.1 unless the person asks for more. */
  host: string
  /** 0 picks a free port. */
  port: number
  token: string
  /** Largest request body accepted, in bytes (default 1 MiB); larger gets 413. */
  bodyLimit?: number
  status: () => StatusView
  peers: () => Promise<PeersReply>
  /** Resolves once this peer holds an action (GET /api/records/:hash/wait). */
  waitForAction?: ActionWaiter
  conductor: Pick<ConductorPort, 'callZome'>
  models: Pick<ModelManager, 'list' | 'load' | 'unload'>
  /** Models split over peers (`?split=1` loads, and the splits in the models list); absent: none. */
  splits?: Pick<SplitService, 'load' | 'views'>
  /** Task routes; absent on a host that schedules nothing. */
  tasks?: TaskApi
  /** Policy routes. */
  policies?: PolicyApi
  /** Invites to this peer's private mesh. */
  invites?: InviteApi
  /** Fetches a model into the models directory (POST /api/models/pull). */
  pull?: ModelPuller
  /** The OpenAI- and Anthropic-compatible endpoint (`/v1`). */
  openai?: OpenAiApi
  /** API keys the endpoint takes besides the token; default none. */
  keys?: Pick<ApiKeyStore, 'check'>
  /** Callers off loopback get the endpoints only, with an API key only (required for a non-loopback host). */
  requireKeys?: boolean
  /** The dashboard's live stream (GET /api/events). */
  feed?: LiveFeed
  /** GET /metrics, and the count of API requests. */
  metrics?: DaemonMetrics
  /** Artifacts on IPFS. */
  artifacts?: ArtifactApi
  /** The shared vector memory; its routes are absent without it. */
  memory?: MemoryApi
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

const NO_KEYS: Pick<ApiKeyStore, 'check'> = { check: async () => ({ ok: false, reason: 'wrong API key' }) }

export class ApiServer implements Startable {
  private readonly app: FastifyInstance
  private listeningUrl: string | null = null
  private readonly loginCodes = new LoginCodes()

  constructor(private readonly init: ApiServerInit) {
    const logger = init.logger.child({ component: 'api' })
    this.app = fastify({
      loggerInstance: logger as FastifyBaseLogger,
      // One line per request would drown the daemon's own logs; errors are logged by the error handler.
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: init.bodyLimit ?? 1024 * 1024,
      // Event streams (task events, MCP) stay open: stopping the daemon must not wait for their clients.
      forceCloseConnections: true,
    })
    const dashboard = readDashboardFiles()
    this.app.decorateRequest('caller', null)
    this.app.addHook(
      'onRequest',
      apiAuth({
        token: init.token,
        keys: init.keys ?? NO_KEYS,
        requireKeys: init.requireKeys ?? false,
        open: [SESSION_ROUTE, ...dashboardRoutes(dashboard)],
      }),
    )
    this.app.addHook('preValidation', jsonBodyCheck)
    const metrics = init.metrics
    if (metrics) {
      this.app.addHook('onResponse', async (request, reply) => {
        metrics.request(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode)
      })
      this.app.get('/metrics', async (_request, reply) =>
        reply.type(metrics.registry.contentType).send(await metrics.text()),
      )
    }
    this.app.setErrorHandler(errorHandler(logger))
    this.app.setNotFoundHandler((request, reply) =>
      sendError(reply, 404, 'NotFoundError', `no route ${request.method} ${request.url.split('?')[0]}`),
    )
    registerSessionRoute(this.app, this.loginCodes, init.token)
    registerStatusRoute(this.app, init.status)
    registerPeersRoute(this.app, init.peers)
    registerZomeRoute(this.app, init.conductor)
    if (init.waitForAction) registerWaitRoute(this.app, init.waitForAction)
    if (init.tasks) registerTaskRoutes(this.app, init.tasks)
    if (init.policies) registerPolicyRoutes(this.app, init.policies)
    if (init.invites) registerInviteRoutes(this.app, init.invites)
    if (init.artifacts) registerArtifactRoutes(this.app, init.artifacts)
    if (init.memory) registerMemoryRoutes(this.app, init.memory)
    registerModelsRoute(this.app, init.models, init.splits)
    registerMcpRoute(this.app, {
      apiUrl: () => this.url,
      token: init.token,
      version: () => init.status().version,
      extraHostNames: [init.host],
    })
    if (init.pull) registerModelPullRoute(this.app, init.pull)
    if (init.openai) registerOpenAiRoutes(this.app, init.openai)
    if (init.feed) registerEventsRoute(this.app, init.feed)
    registerDashboardFiles(this.app, dashboard)
  }

  get url(): string {
    if (this.listeningUrl === null) throw new ApiNotStartedError()
    return this.listeningUrl
  }

  /** The dashboard's address with a fresh one-time login code (POST /api/session trades it for the token). */
  loginUrl(): string {
    return `${this.url}/?code=${this.loginCodes.issue()}`
  }

  async start(): Promise<void> {
    if (!isLoopback(this.init.host) && !this.init.requireKeys) throw new ApiHostNeedsKeysError(this.init.host)
    try {
      await this.app.listen({ host: this.init.host, port: this.init.port })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
        throw new ApiPortInUseError(this.init.host, this.init.port)
      throw err
    }
    const address = this.app.server.address()
    if (address === null || typeof address === 'string') throw new ApiNotStartedError()
    this.listeningUrl = `http://${this.init.host}:${address.port}`
  }

  async stop(): Promise<void> {
    this.init.feed?.close()
    await this.app.close()
    this.listeningUrl = null
  }
}
