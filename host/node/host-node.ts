/**
 * One peer's services (./node-services.ts), built in the order their declared needs give, started in
 * that order and stopped in reverse: the network backend (conductor and, when embedded, libp2p and
 * replication), the memory budget and the models, what it advertises, IPFS and artifacts, policies,
 * splits, the scheduler, direct requests, memory and the metrics. The process around it (data dir,
 * daemon file, token, API listener) is the daemon's.
 */
import { join } from 'node:path'
import { progenitorOf } from '../config/network-config.ts'
import { openAgentKey } from '../identity/keystore.ts'
import { pullModel } from '../inference/model-pull.ts'
import { pullProjector } from '../inference/projector-pull.ts'
import type { LongOperationOptions } from '../interface/progress.ts'
import { OWN_STATEMENT } from '../interface/release.ts'
import { type Startable, startAll, stopAll } from '../interface/startable.ts'
import { networkIdHex } from '../membership/invite.ts'
import { inviteService } from '../membership/invite-service.ts'
import { buildServices } from './build-services.ts'
import type { Components } from './components.ts'
import { trackSubmitted } from './coordination-services.ts'
import { type HostNodeInit, nodeServices } from './node-services.ts'

export class HostNode {
  readonly components: Components
  readonly invites: ReturnType<typeof inviteService>
  readonly #init: HostNodeInit
  readonly #services: Startable[]
  readonly #startedAt = Date.now()

  private constructor(init: HostNodeInit, components: Components, services: Startable[]) {
    this.#init = init
    this.components = components
    this.#services = services
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

  /** Builds every service (the backend opened, nothing else running) in the order their needs give. */
  static async create(init: HostNodeInit): Promise<HostNode> {
    const { logger, dataDir, network } = init
    const { components, running } = await buildServices(nodeServices(init), { logger, dataDir, network })
    return new HostNode(init, components, running)
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
      unusable_models: this.components.description.unusable(),
      loaded_models: models.loadedNames().map((name) => {
        const { idle_since, unloads_at } = models.idleOf(name)
        const slots = models.slotsOf(name)
        return {
          name,
          idle_since,
          unloads_at,
          slots: slots?.slots ?? 0,
          held_back: slots?.heldBack ?? 0,
          running: slots?.busy ?? 0,
        }
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
