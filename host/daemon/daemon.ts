/**
 * One peer: joins a network, opens the agent key and data dir, starts the backend, advertises this
 * machine's capability, keeps heartbeats and the peer view, and serves the API. `startDaemon`
 * resolves once all of that runs; `stop` undoes it in reverse.
 */
import { mkdir, rm } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { LIMITS, type NodeCapability } from '../../zomes-bindings/index.ts'
import { ApiServer } from '../api/api-server.ts'
import { loadOrCreateApiToken } from '../api/api-token.ts'
import { createEmbeddedPeer, recordsAbout, waitForAction } from '../conductor/embedded/replication/index.ts'
import type { ConductorPort } from '../conductor/port.ts'
import { loadNetworkConfig, type NetworkConfig } from '../config/network-config.ts'
import { LoadSampler, probeHardware } from '../hardware/index.ts'
import { FileHashCache } from '../inference/file-hash-cache.ts'
import type { UnusableModel } from '../inference/gguf-scan.ts'
import { LlamaRuntime } from '../inference/llama-runtime.ts'
import { ModelManager } from '../inference/model-manager.ts'
import type { Logger } from '../log/logger.ts'
import { PolicyService } from '../policy/policy-service.ts'
import { buildCapability, RegistryService } from '../registry/index.ts'
import { SchedulerService } from '../scheduler/scheduler-service.ts'
import { inferEmbedWorker } from '../workers/infer-embed.ts'
import { inferGenerateWorker } from '../workers/infer-generate.ts'
import { WorkerRegistry } from '../workers/worker-registry.ts'
import { processAlive, readDaemonFile, removeDaemonFile, writeDaemonFile } from './daemon-file.ts'
import { type DataDir, prepareDataDir } from './data-dir.ts'
import { hostVersion } from './host-version.ts'
import { type Startable, startAll, stopAll } from './startable.ts'

export interface DaemonOptions {
  /** A network name (`networks/<name>.json`) or a path to a network file. */
  network: string
  /** Default: a session dir for `local`, `~/.ripple/<network>` otherwise. */
  dataDir?: string
  /** Advertised name; default: the host name. */
  name?: string
  tags?: readonly string[]
  /** Default: `<dataDir>/models`. */
  modelsDir?: string
  /** Tokens per inference context (capped by each model's training context); default 4096. */
  contextSize?: number
  /** Inference threads; default: the cores this process may use. */
  threads?: number
  /** Default 127.0.0.1. */
  apiHost?: string
  /** 0 picks a free port. */
  apiPort: number
  /** libp2p listen multiaddrs; default: the network file's. */
  listen?: readonly string[]
  /** Multiaddrs of peers to dial and keep connected (`--peer`), on top of the network's bootstrap list. */
  peers?: readonly string[]
  /** Pins mDNS to one interface (tests: 127.0.0.1); default: every interface. */
  mdnsInterface?: string
  /** How often the capability is re-measured (and re-advertised when it changed); default 30 s. */
  resampleIntervalMs?: number
  logger: Logger
}

export interface RunningDaemon {
  agent: string
  network: NetworkConfig
  dataDir: DataDir
  modelsDir: string
  models: ModelManager
  apiUrl: string
  apiToken: string
  /** Where other machines reach this peer (`ripple up --peer <one of these>`). */
  multiaddrs(): string[]
  capability(): NodeCapability
  unusableModels(): UnusableModel[]
  stop(): Promise<void>
}

/** Thrown when the chosen network needs a backend this host cannot start. */
export class UnsupportedBackendError extends Error {
  static override readonly name = 'UnsupportedBackendError'
  constructor(network: string, backend: string) {
    super(
      `network "${network}" uses the ${backend} backend, which this host cannot start yet; ` +
        'use an embedded network such as "local"',
    )
    this.name = 'UnsupportedBackendError'
  }
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
  const network = await loadNetworkConfig(options.network)
  if (network.backend !== 'embedded') throw new UnsupportedBackendError(network.name, network.backend)

  const dataDir = await prepareDataDir(network.name, options.dataDir)
  try {
    return await runDaemon(options, network, dataDir, startedAt)
  } catch (err) {
    // A session dir that never served anyone is only litter.
    if (dataDir.session) await rm(dataDir.path, { recursive: true, force: true })
    throw err
  }
}

async function runDaemon(
  options: DaemonOptions,
  network: NetworkConfig,
  dataDir: DataDir,
  startedAt: number,
): Promise<RunningDaemon> {
  const logger = options.logger
  const running = await readDaemonFile(dataDir.path)
  if (running && running.pid !== process.pid && processAlive(running.pid)) {
    throw new DaemonAlreadyRunningError(dataDir.path, running.pid, running.api_url)
  }
  const modelsDir = options.modelsDir ?? join(dataDir.path, 'models')
  await mkdir(modelsDir, { recursive: true })
  const [apiToken, version] = await Promise.all([loadOrCreateApiToken(dataDir.path), hostVersion()])
  const hashCache = new FileHashCache(join(dataDir.path, 'model-hashes.json'))
  await hashCache.load()

  const peer = await createEmbeddedPeer({
    dataDir: dataDir.path,
    network,
    listen: options.listen ? [...options.listen] : undefined,
    peers: [...(options.peers ?? [])],
    mdnsInterface: options.mdnsInterface,
    logger,
  })
  const conductor: ConductorPort = peer.conductor
  const multiaddrs = (): string[] => peer.node.multiaddrs().map((ma) => ma.toString())
  const inferenceLogger = logger.child({ component: 'inference' })
  const models = new ModelManager({
    modelsDir,
    hashCache,
    runtime: new LlamaRuntime({ threads: options.threads, logger: inferenceLogger }),
    contextSize: options.contextSize,
    logger: inferenceLogger,
  })
  let unusable: UnusableModel[] = []
  const describe = async (): Promise<NodeCapability> => {
    const [hardware, listing] = await Promise.all([probeHardware(dataDir.path), models.list()])
    unusable = listing.unusable
    // Host names can outgrow the contract's 64 characters; a name only has to be recognisable.
    const name = options.name ?? [...hostname()].slice(0, LIMITS.node_capability.name.max).join('')
    const facts = { name, tags: options.tags ?? [], hardware, models: listing.models, hostVersion: version }
    return buildCapability(facts, logger)
  }
  const registry = new RegistryService({
    conductor,
    heartbeat: network.heartbeat,
    describe,
    resampleIntervalMs: options.resampleIntervalMs ?? DEFAULT_RESAMPLE_MS,
    loadSampler: new LoadSampler(),
    // No scheduler runs in this host yet, so no task ever waits here.
    queueDepth: (): number => scheduler.queueDepth(),
    logger: logger.child({ component: 'registry' }),
  })
  // A load or unload changes the advertised `loaded` flags; the next resample is up to 30 s away.
  models.onChange(() => {
    registry.refresh().catch((err: unknown) => logger.warn({ err }, 'could not advertise the model change'))
  })
  const policies = new PolicyService({ conductor, logger: logger.child({ component: 'policy' }) })
  const workers = WorkerRegistry.withBuiltins([inferGenerateWorker(models), inferEmbedWorker(models)])
  const scheduler = new SchedulerService({
    conductor,
    workers,
    policies,
    onRecordsStored: (dna, listener) =>
      peer.replication.onOpsStored((event) => {
        if (event.dna === dna) listener(recordsAbout(event.dna, event.actions))
      }),
    capability: (): NodeCapability => registry.capability,
    logger: logger.child({ component: 'scheduler' }),
  })
  const api = new ApiServer({
    host: options.apiHost ?? '127.0.0.1',
    port: options.apiPort,
    token: apiToken,
    status: () => ({
      agent: conductor.agentPubKey,
      network: network.name,
      backend: conductor.backend,
      version,
      pid: process.pid,
      data_dir: dataDir.path,
      models_dir: modelsDir,
      uptime_ms: Date.now() - startedAt,
      multiaddrs: multiaddrs(),
      warrants: peer.replication.listWarrants(),
      capability: registry.capability,
      unusable_models: unusable,
    }),
    peers: async () => {
      const warrants = peer.replication.listWarrants()
      const peers = (await registry.peers()).map((p) => ({
        ...p,
        warrant: warrants.find((w) => w.agent === p.agent) ?? null,
      }))
      return { peers, warrants }
    },
    conductor,
    waitForAction: (hash, timeoutMs) =>
      waitForAction({ store: peer.conductor.store, replication: peer.replication }, hash, timeoutMs),
    models,
    tasks: { scheduler, workers },
    policies,
    logger,
  })
  const daemonFile: Startable = {
    start: () =>
      writeDaemonFile(dataDir.path, {
        pid: process.pid,
        api_url: api.url,
        network: network.name,
        agent: conductor.agentPubKey,
        data_dir: dataDir.path,
        started_at: new Date(startedAt).toISOString(),
      }),
    stop: () => removeDaemonFile(dataDir.path),
  }
  // The peer (node, replication, conductor) is already running; as a service it only needs stopping.
  const services: Startable[] = [
    { start: async () => {}, stop: () => peer.stop() },
    models,
    registry,
    scheduler,
    api,
    daemonFile,
  ]
  await startAll(services)

  let stopping: Promise<void> | null = null
  return {
    agent: conductor.agentPubKey,
    network,
    dataDir,
    modelsDir,
    models,
    apiUrl: api.url,
    apiToken,
    multiaddrs,
    capability: () => registry.capability,
    unusableModels: () => unusable,
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
