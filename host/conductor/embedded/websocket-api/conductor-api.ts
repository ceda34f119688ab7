/**
 * The embedded conductor served as Holochain's WebSocket API, so the unmodified `@holochain/client`
 * (AdminWebsocket, AppWebsocket) drives it like a Holochain 0.6 conductor: an admin interface (no
 * handshake), app interfaces attached through it (first frame `authenticate` with a token issued over
 * admin), signed zome calls checked as the conductor checks them, and app signals. It serves the very
 * conductor the host uses, not a copy.
 *
 * @example
 * const api = await serveConductorApi({ conductor, network, transport, adminPort: 0 })
 * const admin = await AdminWebsocket.connect({ url: new URL(api.adminUrl), wsClientOptions: { origin: 'ripple-host' } })
 */
import type { WebSocket } from 'ws'
import { DNA_NAMES, type DnaName, type SignalEnvelope } from '../../../../zomes-bindings/index.ts'
import type { NetworkConfig } from '../../../config/network-schema.ts'
import type { Signal } from '../../../interface/conductor-port.ts'
import { type Logger, silentLogger } from '../../../log/logger.ts'
import { nowMicros } from '../../../runtime/clock.ts'
import { RIPPLE_APP_ID, RIPPLE_HOST_ORIGIN } from '../../ripple-app.ts'
import { AppAuthTokenStore, type IssueTokenRequest } from './app-auth-tokens.ts'
import { appInfo, cellIdOf, dnaOfCell } from './app-info.ts'
import { type AgentInfoSource, agentInfos, transportStats } from './network-info.ts'
import { fullStateDump } from './state-dump.ts'
import {
  ConductorApiError,
  DESERIALIZATION_ERROR,
  decodeFrame,
  decodeInner,
  errorMessage,
  type InnerMessage,
  pack,
  responseFrame,
  signalFrame,
  toBytes,
  tokenOf,
} from './wire.ts'
import { listenWebSocket, type WsListener } from './ws-listener.ts'
import {
  CapGrantStore,
  decodeZomeCallParams,
  NonceTracker,
  verifyZomeCallSignature,
} from './zome-call-auth.ts'
import { runZomeCall } from './zome-dispatch.ts'

/** Holochain waits this long for the `authenticate` frame. */
const AUTHENTICATE_TIMEOUT_MS = 10_000
/** A socket holding more than this unsent is lagging: its signals are dropped, as Holochain drops them. */
const SIGNAL_BACKLOG_BYTES = 8 * 1024 * 1024

export interface ConductorApiInit extends AgentInfoSource {
  network: NetworkConfig
  /** 0 picks a free port. */
  adminPort: number
  /** The admin interface's `allowed_origins`; default `ripple-host`. */
  adminOrigins?: string
  logger?: Logger
}

export interface ConductorApi {
  readonly adminUrl: string
  readonly adminPort: number
  close(): Promise<void>
}

interface AppInterface {
  listener: WsListener
  allowedOrigins: string
  installedAppId: string | null
}

type Handler = (value: unknown) => Promise<InnerMessage> | InnerMessage

export async function serveConductorApi(init: ConductorApiInit): Promise<ConductorApi> {
  const server = new ConductorApiServer(init)
  return server.start()
}

class ConductorApiServer {
  readonly #init: ConductorApiInit
  readonly #logger: Logger
  readonly #tokens = new AppAuthTokenStore()
  readonly #grants = new CapGrantStore()
  readonly #nonces = new NonceTracker()
  readonly #appInterfaces: AppInterface[] = []
  /** Authenticated app connections and the app each is bound to. */
  readonly #appSockets = new Map<WebSocket, string>()
  readonly #installedAt = nowMicros()
  #admin: WsListener | null = null
  #stopSignals: () => void = () => {}

  constructor(init: ConductorApiInit) {
    this.#init = init
    this.#logger = (init.logger ?? silentLogger()).child({ component: 'conductor-api' })
  }

  async start(): Promise<ConductorApi> {
    const admin = await listenWebSocket({
      port: this.#init.adminPort,
      allowedOrigins: this.#init.adminOrigins ?? RIPPLE_HOST_ORIGIN,
      onConnection: (socket) => this.#serveRequests(socket, this.#adminHandlers),
    })
    this.#admin = admin
    this.#stopSignals = this.#init.conductor.onSignal((signal) => this.#emitAppSignal(signal))
    this.#logger.info({ port: admin.port }, 'Holochain admin interface listening')
    return {
      adminUrl: `ws://127.0.0.1:${admin.port}`,
      adminPort: admin.port,
      close: () => this.#close(),
    }
  }

  async #close(): Promise<void> {
    this.#stopSignals()
    await Promise.all([this.#admin?.close(), ...this.#appInterfaces.map((i) => i.listener.close())])
    this.#appSockets.clear()
  }

  #appInfo(): Record<string, unknown> {
    return appInfo({
      conductor: this.#init.conductor,
      networkSeed: this.#init.network.seed,
      properties: this.#init.network.dna_properties,
      installedAt: this.#installedAt,
    })
  }

  #requireApp(value: unknown): void {
    const id = (value as { installed_app_id?: unknown } | null)?.installed_app_id
    if (id !== RIPPLE_APP_ID) {
      throw new ConductorApiError('internal_error', `AppNotInstalled(${JSON.stringify(id)})`)
    }
  }

  #requireDna(cellId: unknown): DnaName {
    const dna = dnaOfCell(this.#init.conductor, cellId)
    if (dna === null)
      throw new ConductorApiError('internal_error', 'CellMissing: no running cell with that id')
    return dna
  }

  readonly #adminHandlers: Record<string, Handler> = {
    list_apps: (value) => {
      const filter = (value as { status_filter?: unknown } | null)?.status_filter
      const status =
        typeof filter === 'object' && filter !== null ? (filter as { type: unknown }).type : filter
      return { type: 'apps_listed', value: status === 'disabled' ? [] : [this.#appInfo()] }
    },
    enable_app: (value) => {
      this.#requireApp(value)
      return { type: 'app_enabled', value: this.#appInfo() }
    },
    list_cell_ids: () => ({
      type: 'cell_ids_listed',
      value: DNA_NAMES.map((dna) => cellIdOf(this.#init.conductor, dna)),
    }),
    list_dnas: () => ({
      type: 'dnas_listed',
      value: DNA_NAMES.map((d) => this.#init.conductor.cell(d).dnaHash),
    }),
    attach_app_interface: async (value) => {
      const v = (value ?? {}) as {
        port?: number | null
        allowed_origins?: unknown
        installed_app_id?: unknown
      }
      if (typeof v.allowed_origins !== 'string') {
        throw new ConductorApiError('deserialization', 'Failed to deserialize request')
      }
      const installedAppId = typeof v.installed_app_id === 'string' ? v.installed_app_id : null
      const allowedOrigins = v.allowed_origins
      let iface: AppInterface | undefined
      try {
        const listener = await listenWebSocket({
          port: v.port ?? 0,
          allowedOrigins,
          onConnection: (socket) => {
            if (iface) this.#serveApp(socket, iface)
            else socket.terminate()
          },
        })
        iface = { listener, allowedOrigins, installedAppId }
      } catch (err) {
        throw new ConductorApiError(
          'internal_error',
          `could not bind app interface: ${(err as Error).message}`,
        )
      }
      this.#appInterfaces.push(iface)
      return { type: 'app_interface_attached', value: { port: iface.listener.port } }
    },
    list_app_interfaces: () => ({
      type: 'app_interfaces_listed',
      value: this.#appInterfaces.map((i) => ({
        port: i.listener.port,
        allowed_origins: i.allowedOrigins,
        installed_app_id: i.installedAppId,
      })),
    }),
    issue_app_authentication_token: (value) => {
      const request = value as IssueTokenRequest | null
      if (typeof request?.installed_app_id !== 'string') {
        throw new ConductorApiError('deserialization', 'Failed to deserialize request')
      }
      return { type: 'app_authentication_token_issued', value: this.#tokens.issue(request) }
    },
    revoke_app_authentication_token: (value) => {
      if (Array.isArray(value) || value instanceof Uint8Array) this.#tokens.revoke(Uint8Array.from(value))
      return { type: 'app_authentication_token_revoked' }
    },
    grant_zome_call_capability: (value) => {
      const v = value as { cell_id?: unknown; cap_grant?: unknown } | null
      const dna = this.#requireDna(v?.cell_id)
      const hash = this.#grants.grant(dna, v?.cap_grant as never, nowMicros())
      return { type: 'zome_call_capability_granted', value: hash }
    },
    revoke_zome_call_capability: (value) => {
      const v = value as { cell_id?: unknown; action_hash?: unknown } | null
      const dna = this.#requireDna(v?.cell_id)
      if (!(v?.action_hash instanceof Uint8Array))
        throw new ConductorApiError('deserialization', 'Failed to deserialize request')
      this.#grants.revoke(dna, v.action_hash, nowMicros())
      return { type: 'zome_call_capability_revoked' }
    },
    list_capability_grants: (value) => {
      this.#requireApp(value)
      const includeRevoked = (value as { include_revoked?: unknown }).include_revoked === true
      return {
        type: 'capability_grants_info',
        value: DNA_NAMES.map((dna) => [
          cellIdOf(this.#init.conductor, dna),
          this.#grants.list(dna, includeRevoked),
        ]),
      }
    },
    agent_info: (value) => ({ type: 'agent_info', value: agentInfos(this.#init, value) }),
    dump_full_state: (value) => {
      const dna = this.#requireDna((value as { cell_id?: unknown } | null)?.cell_id)
      return { type: 'full_state_dumped', value: fullStateDump(this.#init.conductor, dna) }
    },
    dump_network_stats: () => ({
      type: 'network_stats_dumped',
      value: { transport_stats: transportStats(this.#init.transport), blocked_message_counts: {} },
    }),
  }

  readonly #appHandlers: Record<string, Handler> = {
    app_info: () => ({ type: 'app_info', value: this.#appInfo() }),
    call_zome: (value) => this.#callZome(value),
    agent_info: (value) => ({ type: 'agent_info', value: agentInfos(this.#init, value) }),
    dump_network_stats: () => ({ type: 'network_stats_dumped', value: transportStats(this.#init.transport) }),
    // The app is enabled from the start; enabling it again is a no-op, as on the conductor.
    enable_app: () => ({ type: 'ok' }),
    list_wasm_host_functions: () => ({ type: 'list_wasm_host_functions', value: [] }),
  }

  /** A token may name an app that is not installed (issuing does not check): such a socket has no app. */
  readonly #noAppHandlers: Record<string, Handler> = {
    app_info: () => ({ type: 'app_info', value: null }),
  }

  /** Requests answered in the order they complete; each reply echoes its request's id. */
  #serveRequests(socket: WebSocket, handlers: Record<string, Handler>): void {
    socket.on('message', (data) => {
      const frame = decodeFrame(toBytes(data))
      if (frame?.type !== 'request') return
      void this.#answer(frame.data, handlers).then((reply) => {
        if (socket.readyState === socket.OPEN) socket.send(responseFrame(frame.id, reply))
      })
    })
  }

  async #answer(data: Uint8Array, handlers: Record<string, Handler>): Promise<InnerMessage> {
    const request = decodeInner(data)
    const handler = request === null ? undefined : handlers[request.type]
    if (request === null || handler === undefined) return DESERIALIZATION_ERROR
    try {
      return await handler(request.value ?? null)
    } catch (err) {
      if (err instanceof ConductorApiError) return errorMessage(err.variant, err.message)
      this.#logger.warn({ err, request: request.type }, 'conductor API request failed')
      return errorMessage('internal_error', (err as Error).message)
    }
  }

  /** An app connection: nothing is answered until its first frame authenticated it. */
  #serveApp(socket: WebSocket, iface: AppInterface): void {
    // Dropped without a word, as the conductor drops a connection that fails to authenticate.
    const drop = () => socket.terminate()
    const timer = setTimeout(drop, AUTHENTICATE_TIMEOUT_MS)
    socket.once('message', (data) => {
      clearTimeout(timer)
      const frame = decodeFrame(toBytes(data))
      const token = frame?.type === 'authenticate' ? tokenOf(frame.data) : null
      const appId = token === null ? null : this.#tokens.authenticate(token, iface.installedAppId)
      if (appId === null) return drop()
      this.#appSockets.set(socket, appId)
      socket.once('close', () => this.#appSockets.delete(socket))
      this.#serveRequests(socket, appId === RIPPLE_APP_ID ? this.#appHandlers : this.#noAppHandlers)
    })
  }

  async #callZome(value: unknown): Promise<InnerMessage> {
    const { bytes, signature } = (value ?? {}) as { bytes?: unknown; signature?: unknown }
    if (!(bytes instanceof Uint8Array))
      throw new ConductorApiError('deserialization', 'Failed to deserialize request')
    const params = decodeZomeCallParams(bytes)
    verifyZomeCallSignature(bytes, signature, params.provenance)
    const dna = this.#requireDna(params.cell_id)
    this.#nonces.check(params, nowMicros())
    this.#grants.authorize(dna, params.cell_id[1], params)
    const result = await runZomeCall(this.#init.conductor, dna, params)
    return { type: 'zome_called', value: result }
  }

  #emitAppSignal(signal: Signal): void {
    let cellId: ReturnType<typeof cellIdOf>
    try {
      cellId = cellIdOf(this.#init.conductor, signal.dna)
    } catch {
      return
    }
    const frame = signalFrame({
      type: 'app',
      value: {
        cell_id: cellId,
        zome_name: signal.dna,
        signal: encodeEnvelope(signal),
      },
    })
    for (const [socket, appId] of this.#appSockets) {
      if (appId !== RIPPLE_APP_ID || socket.readyState !== socket.OPEN) continue
      if (socket.bufferedAmount > SIGNAL_BACKLOG_BYTES) {
        this.#logger.warn('app signal dropped: the connection is lagging')
        continue
      }
      socket.send(frame)
    }
  }
}

/** What `recv_remote_signal` emits in the Rust coordinators: the sender and the payload (SignalEnvelope). */
function encodeEnvelope(signal: Signal): Uint8Array {
  const envelope: SignalEnvelope = { from: signal.from, payload: signal.payload }
  return pack(envelope)
}
