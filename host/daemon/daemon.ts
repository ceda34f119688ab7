/**
 * The process of one peer: chooses the network (creating or joining a private mesh), holds the data
 * dir (one live daemon per dir, its daemon file), the API token, and the API listener over the node
 * that runs the services. `startDaemon` resolves once all of that runs; `stop` undoes it in reverse.
 */
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { NodeCapability } from '../../zomes-bindings/index.ts'
import { ApiKeyStore, apiKeysPath } from '../api/api-keys.ts'
import { ApiServer } from '../api/api-server.ts'
import { loadOrCreateApiToken } from '../api/api-token.ts'
import type { ImageUrlReach } from '../api/openai/image-parts.ts'
import { loadNetworkConfig, withBootstrap } from '../config/network-config.ts'
import type { NetworkConfig } from '../config/network-schema.ts'
import { removeStaleKeyDirs } from '../inference/engine/llama-server-process.ts'
import type { UnusableModel } from '../inference/gguf-scan.ts'
import type { ModelsPort } from '../inference/models-port.ts'
import { type Startable, startAll, stopAll } from '../interface/startable.ts'
import type { IpfsChoice } from '../ipfs/ipfs-choice.ts'
import type { Logger } from '../log/logger.ts'
import { witnessedMesh } from '../membership/admission-request.ts'
import { type ChosenMesh, chooseMesh } from '../membership/private-mesh.ts'
import { HostNode } from '../node/host-node.ts'
import type { ModelServiceInit } from '../node/inference-services.ts'
import { processAlive } from '../runtime/process-alive.ts'
import { PRIVATE_DIR_MODE } from '../storage/private-files.ts'
import { keepUsage } from '../usage/usage-file.ts'
import { readDaemonFile, removeDaemonFile, writeDaemonFile } from './daemon-file.ts'
import { type DataDir, prepareDataDir } from './data-dir.ts'
import { hostVersion } from './host-version.ts'

/** The model settings (context size, threads, slots, memory, keep-alive, rpc-cache) are the node's. */
export interface DaemonOptions extends Omit<ModelServiceInit, 'modelsDir'> {
  /** A network name (`networks/<name>.json`) or a path to a network file. */
  network: string
  /** Default: `$RIPPLE_HOME/<network>` (`~/.ripple/<network>`), or a session dir when `ephemeral`. */
  dataDir?: string
  /** Without `dataDir`: a session dir removed on exit instead of the default data dir. */
  ephemeral?: boolean
  /** Advertised name; default: the host name. */
  name?: string
  tags?: readonly string[]
  /** Default: `<dataDir>/models`. */
  modelsDir?: string
  /** Default 127.0.0.1; anything else needs `requireKeys`. */
  apiHost?: string
  /** Callers from other machines need an API key and reach only the endpoints (/v1, /mcp). */
  requireKeys?: boolean
  /**
   * Fetch the http(s) image URLs of /v1 requests (`--allow-image-urls`), from public addresses or local
   * ones too; default: data URLs only.
   */
  allowImageUrls?: false | ImageUrlReach
  /** 0 picks a free port. */
  apiPort: number
  /** libp2p listen multiaddrs; default: the network file's. */
  listen?: readonly string[]
  /** Multiaddrs of peers to dial and keep connected (`--peer`), on top of the network's bootstrap list. */
  peers?: readonly string[]
  /** Bootstrap multiaddrs (`--bootstrap`, e.g. `ripple relay` nodes) added to the network's. */
  bootstrap?: readonly string[]
  /** Serve Holochain's admin WebSocket API on this 127.0.0.1 port (0: a free one); default: not served. */
  adminPort?: number
  /** `allowed_origins` of that admin interface; default `ripple-host`. */
  adminOrigins?: string
  /** Pins mDNS to one interface (tests: 127.0.0.1); default: every interface. */
  mdnsInterface?: string
  /** `local` only: the shared keyless network instead of this data dir's private mesh. */
  open?: boolean
  /** An invite to a private mesh (its text), joined instead of the network named. */
  inviteText?: string
  /** Lines of startup progress for the person waiting (a witness for the invite being sought). */
  onProgress?: (line: string) => void
  /** Ends a startup still waiting (for a member to witness the invite). */
  signal?: AbortSignal
  /** `helia` (embedded, default) or `kubo[:url]`. */
  ipfs?: IpfsChoice
  /** Bytes of artifacts this peer keeps at most (`--ipfs-max-size`); unlimited when unset. */
  ipfsMaxBytes?: number
  /** Bytes the shared memory's shards may use here (`--memory-max-size`; 0: none); default a quarter of RAM. */
  memoryMaxBytes?: number
  /** How often the capability is re-measured (and re-advertised when it changed); default 30 s. */
  resampleIntervalMs?: number
  logger: Logger
}

export interface RunningDaemon {
  agent: string
  network: NetworkConfig
  /** How the network was chosen (a private mesh created, kept or joined; open; a file). */
  mesh: ChosenMesh['how']
  dataDir: DataDir
  modelsDir: string
  /** The engine's backend, as `ripple up` says it. */
  models: Pick<ModelsPort, 'backends'>
  apiUrl: string
  /** The dashboard's address with a one-time login code (the token itself is never printed). */
  loginUrl(): string
  /** The Holochain admin interface (`--admin-port`), or null when not served. */
  adminUrl: string | null
  /** Where other machines reach this peer (`ripple up --peer <one of these>`). */
  multiaddrs(): string[]
  capability(): NodeCapability
  unusableModels(): UnusableModel[]
  stop(): Promise<void>
}

/** Thrown when another live daemon already runs on the data dir (two would corrupt its store). */
export class DaemonAlreadyRunningError extends Error {
  static override readonly name = 'DaemonAlreadyRunningError'
  constructor(dataDir: string, pid: number, apiUrl: string) {
    super(`a ripple daemon (pid ${pid}, ${apiUrl}) already runs on data dir ${dataDir}`)
    this.name = 'DaemonAlreadyRunningError'
  }
}

const DEFAULT_RESAMPLE_MS = 30_000

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const startedAt = Date.now()
  const base = await loadNetworkConfig(options.network)

  // The shared open network is not this machine's private mesh: it keeps a default dir of its own.
  const dirName = options.open === true ? `${base.name}-open` : base.name
  const dataDir = await prepareDataDir(dirName, options.dataDir, options.ephemeral)
  try {
    const { open = false, inviteText } = options
    const chosen = await chooseMesh({
      requested: options.network,
      base,
      dataDir: dataDir.path,
      open,
      inviteText,
    })
    // A witnessed invite is redeemed with a member before the genesis that cites it is written.
    const mesh = await witnessedMesh(chosen, {
      dataDir: dataDir.path,
      listen: options.listen,
      peers: [...(options.peers ?? []), ...(options.bootstrap ?? [])],
      mdnsInterface: options.mdnsInterface,
      logger: options.logger,
      onProgress: options.onProgress,
      signal: options.signal,
    })
    return await runDaemon(options, mesh, dataDir, startedAt)
  } catch (err) {
    // A session dir that never served anyone is only litter.
    if (dataDir.session) await rm(dataDir.path, { recursive: true, force: true })
    throw err
  }
}

async function runDaemon(
  options: DaemonOptions,
  mesh: ChosenMesh,
  dataDir: DataDir,
  startedAt: number,
): Promise<RunningDaemon> {
  const network = withBootstrap(mesh.network, options.bootstrap ?? [], options.peers)
  const logger = options.logger
  const running = await readDaemonFile(dataDir.path)
  if (running && running.pid !== process.pid && processAlive(running.pid)) {
    throw new DaemonAlreadyRunningError(dataDir.path, running.pid, running.api_url)
  }
  // A daemon killed (kill -9) while its engines loaded left their key dirs in the temp dir.
  await removeStaleKeyDirs().then(
    (removed) => removed.length > 0 && logger.info({ removed }, "removed dead daemons' engine key dirs"),
    (err: unknown) => logger.warn({ err }, "could not remove dead daemons' engine key dirs"),
  )
  const modelsDir = options.modelsDir ?? join(dataDir.path, 'models')
  // Explicit: mkdir's default 0777 is what a umask of 000 leaves it (the 0077 umask comes later).
  await mkdir(modelsDir, { recursive: true, mode: PRIVATE_DIR_MODE })
  const [apiToken, version] = await Promise.all([loadOrCreateApiToken(dataDir.path), hostVersion()])
  const node = await HostNode.create({
    ...options,
    dataDir: dataDir.path,
    network,
    membraneProof: mesh.membraneProof,
    backend: options,
    modelsDir,
    version,
    resampleIntervalMs: options.resampleIntervalMs ?? DEFAULT_RESAMPLE_MS,
  })
  const api = new ApiServer({
    node,
    host: options.apiHost ?? '127.0.0.1',
    port: options.apiPort,
    token: apiToken,
    keys: new ApiKeyStore(apiKeysPath(dataDir.path)),
    requireKeys: options.requireKeys ?? false,
    allowImageUrls: options.allowImageUrls ?? false,
    logger,
  })
  const daemonFile: Startable = {
    start: () =>
      writeDaemonFile(dataDir.path, {
        pid: process.pid,
        api_url: api.url,
        network: network.name,
        agent: node.agent,
        data_dir: dataDir.path,
        started_at: new Date(startedAt).toISOString(),
      }),
    stop: () => removeDaemonFile(dataDir.path),
  }
  // First in, last out: the rows are rebuilt from the chain at start and written once the node signed its last.
  const usage = keepUsage(
    node.components.usage,
    node.components.conductor,
    join(dataDir.path, 'usage.json'),
    logger,
  )
  const services: Startable[] = [usage, node, api, daemonFile]
  await startAll(services)

  let stopping: Promise<void> | null = null
  return {
    agent: node.agent,
    network,
    mesh: mesh.how,
    dataDir,
    modelsDir,
    models: node.components.models,
    apiUrl: api.url,
    loginUrl: () => api.loginUrl(),
    adminUrl: node.components.backend.adminUrl,
    multiaddrs: () => node.components.backend.addresses(),
    capability: () => node.components.registry.capability,
    unusableModels: () => node.status().unusable_models,
    stop: () => {
      stopping ??= (async () => {
        await stopAll(services)
        if (dataDir.session) await rm(dataDir.path, { recursive: true, force: true })
        logger.info('daemon stopped')
      })()
      return stopping
    },
  }
}
