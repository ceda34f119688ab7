/**
 * One peer's services, built in dependency order from the components, started in that order and
 * stopped in reverse: the network backend (conductor and, when embedded, libp2p and replication), the
 * models, what it advertises, IPFS and artifacts, policies, the scheduler, splits, direct requests,
 * memory and the metrics. The process around it (data dir, daemon file, token, API listener) is the
 * daemon's.
 */
import { freemem } from 'node:os'
import { join } from 'node:path'
import { progenitorOf } from '../config/network-config.ts'
import type { NetworkConfig } from '../config/network-schema.ts'
import { openAgentKey } from '../identity/keystore.ts'
import type { MembraneProof } from '../identity/membrane-grant.ts'
import type { UnusableModel } from '../inference/gguf-scan.ts'
import { pullModel } from '../inference/model-pull.ts'
import { pullProjector } from '../inference/projector-pull.ts'
import { MemoryBudget } from '../interface/memory-budget.ts'
import type { LongOperationOptions } from '../interface/progress.ts'
import { OWN_STATEMENT } from '../interface/release.ts'
import { type Startable, startAll, stopAll } from '../interface/startable.ts'
import type { IpfsChoice } from '../ipfs/ipfs-choice.ts'
import type { Logger } from '../log/logger.ts'
import { networkIdHex } from '../membership/invite.ts'
import { inviteService } from '../membership/invite-service.ts'
import { MeshUsage } from '../usage/mesh-usage.ts'
import { UsageLedger } from '../usage/usage-ledger.ts'
import { type Components, growingComponents } from './components.ts'
import {
  daemonMetrics,
  livePeers,
  policyService,
  type RegistryServiceInit,
  registryService,
  schedulerService,
  trackSubmitted,
  workerRegistry,
} from './coordination-services.ts'
import { artifactService, ipfsStore, memoryService, replicationKeeper } from './data-services.ts'
import {
  directService,
  type ModelServiceInit,
  modelManager,
  requestRunner,
  splitService,
} from './inference-services.ts'
import { type BackendOptions, startBackend } from './network-backend.ts'

export interface HostNodeInit extends ModelServiceInit, RegistryServiceInit {
  dataDir: string
  network: NetworkConfig
  /** The invite this agent joined its private mesh with (null: the mesh's admin, or an open network). */
  membraneProof: MembraneProof | null
  backend: Pick<BackendOptions, 'listen' | 'peers' | 'mdnsInterface' | 'adminPort' | 'adminOrigins'>
  ipfs?: IpfsChoice
  /** Bytes of artifacts this peer keeps at most; unlimited when unset. */
  ipfsMaxBytes?: number
  logger: Logger
}

export class HostNode {
  readonly components: Components
  readonly invites: ReturnType<typeof inviteService>
  readonly #init: HostNodeInit
  readonly #services: Startable[]
  readonly #unusableModels: () => UnusableModel[]
  readonly #startedAt = Date.now()

  private constructor(
    init: HostNodeInit,
    components: Components,
    services: Startable[],
    unusableModels: () => UnusableModel[],
  ) {
    this.#init = init
    this.components = components
    this.#services = services
    this.#unusableModels = unusableModels
    this.invites = inviteService({
      network: init.network,
      agent: components.conductor.agentPubKey,
      membraneProof: init.membraneProof,
      key: () => openAgentKey(init.dataDir),
      multiaddrs: () => components.backend.addresses(),
      conductor: components.conductor,
      versions: components.backend.versions && {
        mesh: components.backend.versions,
        agents: () => components.backend.links().keys(),
      },
      logger: init.logger,
    })
  }

  /** Builds every service (the backend already running); nothing else runs until `start`. */
  static async create(init: HostNodeInit): Promise<HostNode> {
    const c = growingComponents()
    Object.assign(c, { logger: init.logger, dataDir: init.dataDir, network: init.network })
    c.backend = await startBackend({
      ...init.backend,
      dataDir: init.dataDir,
      network: init.network,
      membraneProof: init.membraneProof,
      logger: init.logger,
    })
    try {
      c.conductor = c.backend.conductor
      c.budget = new MemoryBudget({ limitBytes: init.modelMemoryBytes, freeMemory: freemem })
      c.models = await modelManager(init)(c)
      const { registry, unusableModels } = registryService(init)(c)
      c.registry = registry
      c.peers = livePeers()(c)
      // Helia's fs stores write blocks and keys with no mode of their own: everything this daemon creates
      // from here on is its owner's only (the data dir's rule: dirs 0700, files 0600).
      process.umask(0o077)
      c.ipfs = await ipfsStore(init.ipfs)(c)
      c.artifacts = artifactService({ maxBytes: init.ipfsMaxBytes })(c)
      const keeper = replicationKeeper()(c)
      c.policies = policyService()(c)
      c.workers = workerRegistry()(c)
      c.scheduler = schedulerService()(c)
      c.splits = splitService(init)(c)
      c.usage = new UsageLedger()
      const agents = c.backend.agents
      c.meshUsage =
        agents &&
        new MeshUsage({ self: c.conductor.agentPubKey, agents, ledger: c.usage, peers: () => c.peers.list() })
      c.direct = directService(init)(c)
      c.requests = requestRunner()(c)
      c.memory = memoryService()(c)
      c.metrics = daemonMetrics()(c)
      const { ipfs, memory } = c
      const services: Startable[] = [
        // Already running: as services they only need stopping.
        { start: async () => {}, stop: () => c.backend.stop() },
        ...(ipfs ? [{ start: async () => {}, stop: () => ipfs.stop() }] : []),
        c.models,
        c.registry,
        c.splits,
        c.scheduler,
        c.direct,
        ...(c.meshUsage ? [c.meshUsage] : []),
        ...(keeper ? [keeper] : []),
        ...(memory ? [memory] : []),
      ]
      return new HostNode(init, c, services, unusableModels)
    } catch (err) {
      // Nothing runs yet but what was opened while building: IPFS (if it got that far), the backend.
      if ('ipfs' in c) await c.ipfs?.stop()
      await c.backend.stop()
      throw err
    }
  }

  get agent(): string {
    return this.components.conductor.agentPubKey
  }

  start(): Promise<void> {
    return startAll(this.#services)
  }

  stop(): Promise<void> {
    return stopAll(this.#services)
  }

  /** What `ripple status` and the dashboard show about this peer. */
  status() {
    const { conductor, backend, registry, models } = this.components
    const { network, dataDir, modelsDir, version } = this.#init
    return {
      agent: conductor.agentPubKey,
      network: network.name,
      network_id: networkIdHex(network),
      progenitor: progenitorOf(network),
      backend: conductor.backend,
      version,
      pid: process.pid,
      data_dir: dataDir,
      models_dir: modelsDir,
      uptime_ms: Date.now() - this.#startedAt,
      multiaddrs: backend.addresses(),
      warrants: backend.warrants(),
      capability: registry.capability,
      unusable_models: this.#unusableModels(),
      loaded_models: models.loadedNames().map((name) => {
        const { idle_since, unloads_at } = models.idleOf(name)
        return { name, idle_since, unloads_at }
      }),
      engine: models.backends.status(),
      rpc_cache: this.components.splits.cacheUse(),
      standing: backend.standing(),
      release: OWN_STATEMENT,
    }
  }

  /** Fetches a model (and its projector, where the source names one) into the models directory and advertises it. */
  async pull(request: Parameters<typeof pullModel>[1], options: LongOperationOptions) {
    const { modelsDir, dataDir } = this.#init
    const logger = this.components.logger.child({ component: 'inference' })
    const init = { modelsDir, stagingDir: join(dataDir, 'pulls'), logger }
    const model = await pullModel(init, request, options)
    // The model is pulled whatever becomes of its projector: without one it serves text.
    const projector = await pullProjector(init, request.source, model.name, options)
    if (projector !== null && 'error' in projector)
      logger.warn({ model: model.name, err: projector.error }, 'pulled the model but not its projector')
    await this.components.registry.refresh()
    this.components.models.changed()
    return { model, projector }
  }

  /** Follows a task submitted here into the metrics. */
  onSubmitted = (hash: string): void => trackSubmitted(this.components, hash)
}
