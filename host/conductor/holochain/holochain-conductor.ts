/**
 * The holochain backend: the conductor port over a Holochain 0.6 conductor's WebSocket API, through the
 * official `@holochain/client`. It connects to the admin interface, installs `workdir/ripple.happ` when
 * the app is missing, attaches an app interface, authorises signing credentials for each cell, and then
 * signs every zome call; app signals (`SignalEnvelope`) become the port's signals.
 */
import { access } from 'node:fs/promises'
import {
  AdminWebsocket,
  type AppInfo,
  AppWebsocket,
  type CellId,
  encodeHashToBase64,
  type Signal as HcSignal,
} from '@holochain/client'
import {
  BROADCAST_SIGNAL_FN,
  contract,
  DNA_NAMES,
  type DnaName,
  SEND_SIGNAL_FN,
  type SendSignalInput,
  SignalEnvelopeSchema,
  type ZomeFnName,
  type ZomeFunctionContract,
  type ZomeInput,
  type ZomeOutput,
} from '../../../zomes-bindings/index.ts'
import type { NetworkConfig } from '../../config/network-schema.ts'
import type { AgentInfoView, ConductorPort, Signal, ZomeCallOptions } from '../../interface/conductor-port.ts'
import { type Logger, silentLogger } from '../../log/logger.ts'
import { untilAborted } from '../../runtime/until-aborted.ts'
import { InvalidZomeCallError } from '../embedded/errors.ts'
import { RIPPLE_APP_ID, RIPPLE_HOST_ORIGIN } from '../ripple-app.ts'
import { retryDelayOf } from './call-retry.ts'
import { zomeRefusalOf } from './zome-refusal-text.ts'

/** Thrown when the app is not installed and there is no packed hApp to install. */
export class HappNotBuiltError extends Error {
  static override readonly name = 'HappNotBuiltError'
  constructor(readonly path: string) {
    super(
      `the conductor has no "${RIPPLE_APP_ID}" app and ${path} does not exist: build it with the Holochain ` +
        'toolchain (`nix develop` in this repo, then `npm run build:happ`); it cannot be built without hdk/hdi',
    )
    this.name = 'HappNotBuiltError'
  }
}

/**
 * A zome call the conductor refused or the zome failed (`ribosome_error`, `zome_call_unauthorized`...);
 * the rules' refusals are the port's own errors (./zome-refusal-text.ts).
 */
export class HolochainCallError extends Error {
  static override readonly name = 'HolochainCallError'
  constructor(
    readonly dna: string,
    readonly fn: string,
    readonly variant: string,
    message: string,
  ) {
    super(`${dna}.${fn}: ${variant}: ${message}`)
    this.name = 'HolochainCallError'
  }
}

export interface HolochainConductorInit {
  /** ws:// URL of the conductor's admin interface. */
  adminUrl: string
  network: NetworkConfig
  /** Installed when the conductor lacks the app. */
  happPath: string
  /** The agent the app is installed under (its key in the conductor's lair); else the conductor makes one. */
  agentKey?: Uint8Array
  /**
   * The agent's invite to a private mesh, as its genesis carries it (the canonical msgpack the zomes'
   * genesis_self_check reads); null or absent for the mesh's admin and on an open network.
   */
  membraneProof?: Uint8Array | null
  /** Default `ripple-host`. */
  origin?: string
  logger?: Logger
}

export class HolochainConductor implements ConductorPort {
  readonly backend = 'holochain' as const
  readonly agentPubKey: string
  readonly #admin: AdminWebsocket
  readonly #app: AppWebsocket
  readonly #cells: Map<DnaName, CellId>
  readonly #handlers = new Set<(signal: Signal) => void>()
  readonly #logger: Logger
  #closed = false

  private constructor(admin: AdminWebsocket, app: AppWebsocket, cells: Map<DnaName, CellId>, logger: Logger) {
    this.#admin = admin
    this.#app = app
    this.#cells = cells
    this.#logger = logger
    this.agentPubKey = encodeHashToBase64(app.myPubKey)
    app.on('signal', (signal: HcSignal) => this.#deliver(signal))
  }

  static async connect(init: HolochainConductorInit): Promise<HolochainConductor> {
    const logger = (init.logger ?? silentLogger()).child({ component: 'holochain' })
    const origin = init.origin ?? RIPPLE_HOST_ORIGIN
    const wsClientOptions = { origin }
    const admin = await AdminWebsocket.connect({ url: new URL(init.adminUrl), wsClientOptions })
    try {
      const installed = (await admin.listApps({})).find((a) => a.installed_app_id === RIPPLE_APP_ID)
      const info = installed ?? (await install(admin, init))
      if (info.status.type !== 'enabled') await admin.enableApp({ installed_app_id: RIPPLE_APP_ID })
      const { port } = await admin.attachAppInterface({
        allowed_origins: origin,
        installed_app_id: RIPPLE_APP_ID,
      })
      // Multi-use and non-expiring, so the client can re-authenticate when it reconnects.
      const { token } = await admin.issueAppAuthenticationToken({
        installed_app_id: RIPPLE_APP_ID,
        single_use: false,
        expiry_seconds: 0,
      })
      const host = new URL(init.adminUrl).hostname
      const app = await AppWebsocket.connect({ url: new URL(`ws://${host}:${port}`), token, wsClientOptions })
      const cells = cellsOf(await app.appInfo())
      for (const cellId of cells.values()) await admin.authorizeSigningCredentials(cellId)
      logger.info(
        { admin: init.adminUrl, agent: encodeHashToBase64(app.myPubKey) },
        'holochain conductor connected',
      )
      return new HolochainConductor(admin, app, cells, logger)
    } catch (err) {
      await admin.client.close().catch(() => undefined)
      throw err
    }
  }

  /** The cell of a DNA on the conductor. */
  cellId(dna: DnaName): CellId {
    const cell = this.#cells.get(dna)
    if (cell === undefined) throw new TypeError(`unknown DNA ${dna}`)
    return cell
  }

  async callZome<D extends DnaName, F extends ZomeFnName<D>>(
    dna: D,
    fn: F,
    payload: ZomeInput<D, F>,
    options: ZomeCallOptions = {},
  ): Promise<ZomeOutput<D, F>> {
    const fnContract = (contract[dna].functions as Record<string, ZomeFunctionContract>)[fn]
    if (fnContract === undefined) {
      throw new InvalidZomeCallError(dna, fn, [{ path: [], message: `${dna} has no zome function ${fn}` }])
    }
    // Checked here too: a caller gets the contract's readable error, not a conductor's wasm trace.
    const input = fnContract.input.safeParse(payload)
    if (!input.success) throw new InvalidZomeCallError(dna, fn, input.error.issues)
    const result = await this.#call(dna, fn, input.data, options.signal)
    const output = fnContract.output.safeParse(result)
    if (!output.success) throw new InvalidZomeCallError(dna, fn, output.error.issues, 'output')
    return output.data as ZomeOutput<D, F>
  }

  /** The agent's chain head in a DNA, from the conductor's state dump. */
  async agentInfo(dna: DnaName): Promise<AgentInfoView> {
    const cellId = this.cellId(dna)
    const dump = await this.#admin.dumpFullState({ cell_id: cellId })
    const last = dump.source_chain_dump.records.at(-1)
    if (last === undefined) throw new Error(`the conductor holds no chain for ${dna}`)
    return {
      agent_pubkey: this.agentPubKey,
      dna,
      dna_hash: encodeHashToBase64(cellId[0]),
      chain_head: {
        action_hash: encodeHashToBase64(last.action_address),
        action_seq: 'action_seq' in last.action ? last.action.action_seq : 0,
        timestamp: last.action.timestamp,
      },
    }
  }

  async broadcastSignal(dna: DnaName, payload: unknown): Promise<void> {
    await this.#call(dna, BROADCAST_SIGNAL_FN, payload)
  }

  /**
   * Through the zome's `send_signal` (Holochain's `send_remote_signal`). Holochain does not confirm
   * delivery: this resolves once the conductor sent it, and a signal to an unreachable agent is lost.
   */
  async sendSignal(dna: DnaName, to: string, payload: unknown): Promise<void> {
    const input: SendSignalInput = { to, payload }
    await this.#call(dna, SEND_SIGNAL_FN, input)
  }

  onSignal(handler: (signal: Signal) => void): () => void {
    this.#handlers.add(handler)
    return () => this.#handlers.delete(handler)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.allSettled([this.#app.client.close(), this.#admin.client.close()])
  }

  /**
   * Its conductor's call, made again while the conductor is not ready. Once `signal` aborts, this stops
   * waiting for it (the conductor's own call runs on) and tries no more.
   */
  async #call(dna: DnaName, fn: string, payload: unknown, signal?: AbortSignal): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted()
      const call = this.#app.callZome({ cell_id: this.cellId(dna), zome_name: dna, fn_name: fn, payload })
      try {
        return await (signal ? untilAborted(call, signal) : call)
      } catch (err) {
        if (signal?.aborted) throw signal.reason
        const e = err as Error
        const delay = retryDelayOf(e.message, attempt)
        if (delay !== null) {
          this.#logger.debug({ dna, fn, attempt, err: e.message }, 'zome call made again')
          await new Promise((resolve) => setTimeout(resolve, delay))
          continue
        }
        throw zomeRefusalOf(e.message) ?? new HolochainCallError(dna, fn, e.name, e.message)
      }
    }
  }

  #deliver(signal: HcSignal): void {
    if (signal.type !== 'app') return
    const dna = signal.value.zome_name as DnaName
    if (!DNA_NAMES.includes(dna)) return
    const envelope = SignalEnvelopeSchema.safeParse(signal.value.payload)
    if (!envelope.success) {
      this.#logger.debug({ dna }, 'app signal that is not a SignalEnvelope ignored')
      return
    }
    const port: Signal = { dna, from: envelope.data.from, payload: envelope.data.payload }
    for (const handler of this.#handlers) {
      try {
        handler(port)
      } catch (err) {
        this.#logger.error({ err, dna }, 'signal handler failed')
      }
    }
  }
}

const INSTALL_TIMEOUT_MS = 300_000

async function install(admin: AdminWebsocket, init: HolochainConductorInit): Promise<AppInfo> {
  try {
    await access(init.happPath)
  } catch {
    throw new HappNotBuiltError(init.happPath)
  }
  const roles_settings = Object.fromEntries(
    DNA_NAMES.map((dna) => [
      dna,
      {
        type: 'provisioned' as const,
        value: {
          modifiers: { network_seed: init.network.seed, properties: init.network.dna_properties[dna] ?? {} },
          ...(init.membraneProof && { membrane_proof: init.membraneProof }),
        },
      },
    ]),
  )
  // The conductor compiles the five DNAs' wasm while installing: over a minute on a busy two-core machine.
  return admin.installApp(
    {
      source: { type: 'path', value: init.happPath },
      installed_app_id: RIPPLE_APP_ID,
      ...(init.agentKey && { agent_key: init.agentKey }),
      network_seed: init.network.seed,
      roles_settings,
    },
    INSTALL_TIMEOUT_MS,
  )
}

function cellsOf(info: AppInfo): Map<DnaName, CellId> {
  const cells = new Map<DnaName, CellId>()
  for (const dna of DNA_NAMES) {
    const provisioned = info.cell_info[dna]?.find((c) => c.type === 'provisioned')
    if (provisioned?.type !== 'provisioned') throw new Error(`the ${RIPPLE_APP_ID} app has no ${dna} cell`)
    cells.set(dna, provisioned.value.cell_id)
  }
  return cells
}
