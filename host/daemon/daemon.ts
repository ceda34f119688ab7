/**
 * One peer: joins a network, opens the agent key and data dir, starts the backend, advertises this
 * machine's capability, keeps heartbeats and the peer view, and serves the API. `startDaemon`
 * resolves once all of that runs; `stop` undoes it in reverse.
 */
import { mkdir, rm } from 'node:fs/promises'
import { availableParallelism, hostname } from 'node:os'
import { join } from 'node:path'
import {
  DNA_NAMES,
  fitText,
  type Heartbeat,
  LIMITS,
  type NodeCapability,
} from '../../zomes-bindings/index.ts'
import { ApiKeyStore, apiKeysPath } from '../api/api-keys.ts'
import { ApiServer } from '../api/api-server.ts'
import { loadOrCreateApiToken } from '../api/api-token.ts'
import { LiveFeed } from '../api/dashboard/live-feed.ts'
import { ArtifactService } from '../artifacts/artifact-service.ts'
import { ReplicationKeeper } from '../artifacts/replication-keeper.ts'
import { artifactTaskPayloads } from '../artifacts/task-payloads.ts'
import type { ConductorPort } from '../conductor/port.ts'
import {
  loadNetworkConfig,
  type NetworkConfig,
  progenitorOf,
  withBootstrap,
} from '../config/network-config.ts'
import { LoadSampler, probeHardware } from '../hardware/index.ts'
import { openAgentKey } from '../identity/keystore.ts'
import { decodeRate, engineTags, freeSlots } from '../inference/engine/engine-capability.ts'
import { FileHashCache } from '../inference/file-hash-cache.ts'
import type { UnusableModel } from '../inference/gguf-scan.ts'
import { ModelManager } from '../inference/model-manager.ts'
import { pullModel } from '../inference/model-pull.ts'
import { ModelQuarantine } from '../inference/model-quarantine.ts'
import { type Startable, startAll, stopAll } from '../interface/startable.ts'
import type { IpfsChoice } from '../ipfs/ipfs-choice.ts'
import { openIpfs } from '../ipfs/open-ipfs.ts'
import type { Logger } from '../log/logger.ts'
import { ipfsSnapshotStore } from '../memory/ipfs-snapshots.ts'
import { EmbeddingUnavailableError } from '../memory/memory-errors.ts'
import { MemoryService } from '../memory/memory-service.ts'
import { rpcMemoryTransport } from '../memory/memory-transport.ts'
import { networkIdHex } from '../mesh/invite.ts'
import { inviteService } from '../mesh/invite-service.ts'
import { type ChosenMesh, chooseMesh } from '../mesh/private-mesh.ts'
import { DaemonMetrics } from '../metrics/daemon-metrics.ts'
import { trackTask } from '../metrics/track-task.ts'
import { PolicyService } from '../policy/policy-service.ts'
import { buildCapability, RegistryService } from '../registry/index.ts'
import { DirectService } from '../scheduler/direct/direct-service.ts'
import { MeshRunError } from '../scheduler/mesh-errors.ts'
import { MeshInference } from '../scheduler/mesh-inference.ts'
import { SchedulerService } from '../scheduler/scheduler-service.ts'
import { RpcWorker } from '../split/rpc-worker.ts'
import { SplitService } from '../split/split-service.ts'
import { InferEmbedOutputSchema, inferEmbedWorker } from '../workers/infer-embed.ts'
import { inferGenerateWorker } from '../workers/infer-generate.ts'
import { WorkerRegistry } from '../workers/worker-registry.ts'
import { startBackend } from './backend.ts'
import { processAlive, readDaemonFile, removeDaemonFile, writeDaemonFile } from './daemon-file.ts'
import { type DataDir, prepareDataDir } from './data-dir.ts'
import { hostVersion } from './host-version.ts'

export interface DaemonOptions {
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
  /** Tokens per inference context (capped by each model's training context); default 4096. */
  contextSize?: number
  /** Inference threads; default: the cores this process may use. */
  threads?: number
  /** Requests each loaded model serves at once (`--parallel`); default from its size and free memory. */
  slots?: number
  /** The most memory models may take here (`--model-memory`); default: all that is free. */
  modelMemoryBytes?: number
  /** Default 127.0.0.1; anything else needs `requireKeys`. */
  apiHost?: string
  /** Callers from other machines need an API key and reach only the endpoints (/v1, /mcp). */
  requireKeys?: boolean
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
  models: ModelManager
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
    const mesh = await chooseMesh({
      requested: options.network,
      base,
      dataDir: dataDir.path,
      open,
      inviteText,
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
  const modelsDir = options.modelsDir ?? join(dataDir.path, 'models')
  await mkdir(modelsDir, { recursive: true })
  const [apiToken, version] = await Promise.all([loadOrCreateApiToken(dataDir.path), hostVersion()])
  const hashCache = new FileHashCache(join(dataDir.path, 'model-hashes.json'))
  await hashCache.load()

  const backend = await startBackend({
    dataDir: dataDir.path,
    network,
    listen: options.listen,
    peers: options.peers,
    mdnsInterface: options.mdnsInterface,
    adminPort: options.adminPort,
    adminOrigins: options.adminOrigins,
    membraneProof: mesh.membraneProof,
    logger,
  })
  const conductor: ConductorPort = backend.conductor
  const multiaddrs = backend.multiaddrs
  const inferenceLogger = logger.child({ component: 'inference' })
  const models = new ModelManager({
    modelsDir,
    hashCache,
    quarantine: new ModelQuarantine(join(dataDir.path, 'model-quarantine.json')),
    threads: options.threads,
    contextSize: options.contextSize,
    slots: options.slots,
    memoryLimitBytes: options.modelMemoryBytes,
    logger: inferenceLogger,
  })
  // The engine's backend is chosen (GPU ones self-tested) before the capability says which it is.
  await models.backends
    .active()
    .catch((err: unknown) =>
      inferenceLogger.warn({ err: (err as Error).message }, 'the inference engine cannot run'),
    )
  let unusable: UnusableModel[] = []
  const describe = async (): Promise<NodeCapability> => {
    const [hardware, listing] = await Promise.all([probeHardware(dataDir.path), models.list()])
    unusable = listing.unusable
    // Host names can outgrow the contract's 64 characters; a name only has to be recognisable.
    const name = options.name ?? fitText(hostname(), LIMITS.node_capability.name.max)
    // `memory` is set once the daemon runs; the first description (at start-up) holds none yet.
    const shardsHeld = memory?.shardsHeld() ?? 0
    // Shards live in RAM (the index) and on disk: a quarter of RAM unless the operator says otherwise.
    const memoryCapacityBytes = backend.rpc
      ? (options.memoryMaxBytes ?? Math.floor(hardware.ram_bytes / 4))
      : 0
    const facts = {
      name,
      tags: [...(options.tags ?? []), ...engineTags(models.backends.status())],
      hardware,
      models: listing.models,
      tokensPerSecond: decodeRate(models.loadedModels()),
      hostVersion: version,
      shardsHeld,
      memoryCapacityBytes,
    }
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
    freeSlots: () => freeSlots(models.loadedModels()),
    freeModelBytes: () => models.freeModelBytes(),
    splits: (): NonNullable<Heartbeat['splits']> =>
      splits.views().map(({ model, peers }) => ({
        model,
        peers: peers.map(({ agent, layers, bytes }) => ({ agent, layers, bytes })),
      })),
    logger: logger.child({ component: 'registry' }),
  })
  // A load or unload changes the advertised `loaded` flags; the next resample is up to 30 s away.
  models.onChange(() => {
    registry.refresh().catch((err: unknown) => logger.warn({ err }, 'could not advertise the model change'))
  })
  // Helia's fs stores write blocks and keys with no mode of their own: everything this daemon creates
  // from here on is its owner's only (the data dir's rule: dirs 0700, files 0600).
  process.umask(0o077)
  // A Holochain-backed network has no libp2p node of ours for Helia: without --ipfs kubo it runs
  // without artifacts (and says so) rather than not at all.
  const helialess = (options.ipfs ?? { kind: 'helia' }).kind === 'helia' && backend.libp2p === null
  if (helialess)
    logger.warn('no artifacts on this network without --ipfs kubo[:url] (Helia needs our libp2p node)')
  const ipfs = helialess
    ? null
    : await openIpfs(options.ipfs ?? { kind: 'helia' }, backend.libp2p, join(dataDir.path, 'ipfs')).catch(
        async (err: unknown) => {
          await backend.stop()
          throw err
        },
      )
  const artifacts =
    ipfs &&
    new ArtifactService({
      conductor,
      ipfs,
      maxBytes: options.ipfsMaxBytes,
      onMismatch: (record, err) =>
        backend.warrantAuthor?.(
          'artifact_index',
          record.author,
          record.action_hash,
          `artifact.${err.field}`,
          err.message,
        ),
      logger: logger.child({ component: 'artifacts' }),
    })
  const replicationKeeper =
    artifacts &&
    new ReplicationKeeper({
      artifacts,
      alivePeers: async () =>
        (await registry.peers()).filter((p) => p.status !== 'offline').map((p) => p.agent),
      onRecordsStored: backend.onRecordsStored,
      logger: logger.child({ component: 'artifacts' }),
    })
  const policies = new PolicyService({ conductor, logger: logger.child({ component: 'policy' }) })
  const workers = WorkerRegistry.withBuiltins([inferGenerateWorker(models), inferEmbedWorker(models)])
  const scheduler = new SchedulerService({
    conductor,
    workers,
    policies,
    onRecordsStored: backend.onRecordsStored,
    payloads: artifacts ? artifactTaskPayloads(artifacts) : undefined,
    capability: (): NodeCapability => registry.capability,
    barred: backend.isRevoked,
    logger: logger.child({ component: 'scheduler' }),
  })
  const peersView = async () => {
    const warrants = backend.warrants()
    const links = backend.links()
    const peers = (await registry.peers()).map((p) => ({
      ...p,
      warrant: warrants.find((w) => w.agent === p.agent) ?? null,
      link: links.get(p.agent) ?? null,
      revoked: backend.isRevoked?.(p.agent) ?? false,
    }))
    return { peers, warrants }
  }
  // This peer's memory for splits (an RPC worker behind the mesh's tunnel), and the splits it heads.
  const splits = new SplitService({
    self: conductor.agentPubKey,
    models,
    streams: backend.streams,
    worker: new RpcWorker({
      dir: async () => {
        const { dir, env } = await models.backends.active()
        return { dir, env }
      },
      cacheDir: join(dataDir.path, 'rpc-cache'),
      threads: options.threads ?? availableParallelism(),
      logger: inferenceLogger.child({ component: 'rpc-worker' }),
    }),
    peers: () => registry.peers(),
    rtt: async (peer) => {
      const services = backend.libp2p?.services as
        | { ping?: { ping(p: typeof peer): Promise<number> } }
        | undefined
      return services?.ping ? Math.round(await services.ping.ping(peer)) : null
    },
    logger: inferenceLogger.child({ component: 'split' }),
  })
  // Interactive requests go straight to their runner; the signed record follows the answer.
  const direct = new DirectService({
    conductor,
    workers,
    policies,
    slotsOf: (model) => models.slotsOf(model),
    streams: backend.streams,
    peers: async () => (await peersView()).peers,
    waitForAction: backend.waitForAction,
    // Called only once the daemon runs, when the metrics (below) exist.
    onServed: (output) => {
      const timings = (
        output as { timings?: { generated_tokens?: number; tokens_per_second?: number | null } }
      ).timings
      metrics.answerServed(timings?.generated_tokens ?? null, timings?.tokens_per_second ?? null)
    },
    logger: logger.child({ component: 'direct' }),
  })
  const inference = new MeshInference({
    scheduler,
    workers,
    direct: direct.inference,
    peers: async () => (await peersView()).peers,
    // Called only once the daemon runs, when trackSubmitted (below, with the metrics) exists.
    onSubmitted: (hash) => trackSubmitted(hash),
  })
  // The shared memory runs where this peer can reach others directly (the embedded backend's node).
  const memory =
    backend.rpc &&
    new MemoryService({
      conductor,
      transport: rpcMemoryTransport(backend.rpc),
      dir: join(dataDir.path, 'memory'),
      peers: async () =>
        (await registry.peers())
          .filter((p) => p.status !== 'offline')
          .map((p) => ({
            agent: p.agent,
            load: (p.load?.cpu_pct ?? 100) / 100,
            capacity: p.capability?.memory.capacity_bytes ?? 0,
          })),
      embed: async (model, texts, signal) => {
        const answer = await inference
          .run({
            kind: 'infer.embed',
            model,
            input: { model, input: texts },
            fanOut: 1,
            signal: signal ?? new AbortController().signal,
          })
          .catch((err: unknown) => {
            // What the mesh could not do, as memory's own error (the status its callers get).
            if (err instanceof MeshRunError && err.failure !== 'invalid_input')
              throw new EmbeddingUnavailableError(model, err.failure, err.message)
            throw err
          })
        const output = InferEmbedOutputSchema.parse(answer.output)
        return { vectors: output.vectors, file_hash: output.model.file_hash }
      },
      snapshots: ipfs ? ipfsSnapshotStore(ipfs) : undefined,
      waitForRecord: backend.waitForAction,
      logger: logger.child({ component: 'memory' }),
    })
  const metrics = new DaemonMetrics({
    peers: peersView,
    tasks: () => scheduler.list(),
    replication: backend.replicationStats,
    direct: () => direct.inference.stats(),
    chainActions: async () =>
      Object.fromEntries(
        await Promise.all(
          DNA_NAMES.map(async (dna) => [dna, (await conductor.agentInfo(dna)).chain_head.action_seq + 1]),
        ),
      ),
  })
  models.onLoaded((name, loadMs) => metrics.modelLoaded(name, loadMs))
  backend.onOpAges?.((ages) => metrics.opsStored(ages))
  // Tasks submitted here, through `/api` or `/v1`, end in the metrics.
  const trackSubmitted = (hash: string) =>
    trackTask(scheduler, metrics, hash, (err) => logger.warn({ err }, 'task metrics failed'))
  const api = new ApiServer({
    host: options.apiHost ?? '127.0.0.1',
    port: options.apiPort,
    token: apiToken,
    keys: new ApiKeyStore(apiKeysPath(dataDir.path)),
    requireKeys: options.requireKeys ?? false,
    status: () => ({
      agent: conductor.agentPubKey,
      network: network.name,
      network_id: networkIdHex(network),
      progenitor: progenitorOf(network),
      backend: conductor.backend,
      version,
      pid: process.pid,
      data_dir: dataDir.path,
      models_dir: modelsDir,
      uptime_ms: Date.now() - startedAt,
      multiaddrs: multiaddrs(),
      warrants: backend.warrants(),
      capability: registry.capability,
      unusable_models: unusable,
      engine: models.backends.status(),
    }),
    peers: peersView,
    conductor,
    waitForAction: backend.waitForAction,
    models,
    splits,
    tasks: {
      scheduler,
      workers,
      onSubmitted: trackSubmitted,
      served: (request) => direct.served(request),
    },
    policies,
    artifacts: artifacts ?? undefined,
    invites: inviteService({
      network,
      agent: conductor.agentPubKey,
      membraneProof: mesh.membraneProof,
      key: () => openAgentKey(dataDir.path),
      multiaddrs,
      conductor,
    }),
    pull: async (request, pullOptions) => {
      const stagingDir = join(dataDir.path, 'pulls')
      const model = await pullModel({ modelsDir, stagingDir, logger: inferenceLogger }, request, pullOptions)
      await registry.refresh()
      models.changed()
      return model
    },
    openai: { inference },
    memory: memory ?? undefined,
    feed: new LiveFeed({
      peers: peersView,
      tasks: () => scheduler.list(),
      ...(artifacts ? { artifacts: () => artifacts.list() } : {}),
      models: async () => ({ ...(await models.list()), splits: splits.views() }),
      onModelsChange: (listener) => models.onChange(listener),
      logger: logger.child({ component: 'live-feed' }),
    }),
    metrics,
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
  // The backend (conductor, and for embedded its node and replication) is already running; as a service
  // it only needs stopping.
  const services: Startable[] = [
    { start: async () => {}, stop: () => backend.stop() },
    ...(ipfs ? [{ start: async () => {}, stop: () => ipfs.stop() }] : []),
    models,
    registry,
    splits,
    scheduler,
    direct,
    ...(replicationKeeper ? [replicationKeeper] : []),
    ...(memory ? [memory] : []),
    api,
    daemonFile,
  ]
  await startAll(services)

  let stopping: Promise<void> | null = null
  return {
    agent: conductor.agentPubKey,
    network,
    mesh: mesh.how,
    dataDir,
    modelsDir,
    models,
    apiUrl: api.url,
    loginUrl: () => api.loginUrl(),
    adminUrl: backend.adminUrl,
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
