/**
 * The coordination services: the live view of the peers, what this peer advertises (capability and
 * heartbeats), its policies, the workers it runs, the scheduler, and the metrics over all of them.
 */
import { hostname } from 'node:os'
import { DNA_NAMES, fitText, LIMITS, type NodeCapability } from '../../zomes-bindings/index.ts'
import { artifactTaskPayloads } from '../artifacts/task-payloads.ts'
import { LoadSampler, probeHardware } from '../hardware/index.ts'
import { decodeRate, engineTags, freeSlots } from '../inference/engine/engine-capability.ts'
import type { UnusableModel } from '../inference/gguf-scan.ts'
import { withVisionTags } from '../inference/vision.ts'
import type { LivePeers } from '../interface/live-peers.ts'
import type { Logger } from '../log/logger.ts'
import { DaemonMetrics } from '../metrics/daemon-metrics.ts'
import { trackTask } from '../metrics/track-task.ts'
import { usageCounters } from '../metrics/usage-metrics.ts'
import { PolicyService } from '../policy/policy-service.ts'
import { buildCapability, RegistryService } from '../registry/index.ts'
import { SchedulerService } from '../scheduler/scheduler-service.ts'
import { inferEmbedWorker } from '../workers/infer-embed.ts'
import { inferGenerateWorker } from '../workers/infer-generate.ts'
import { WorkerRegistry } from '../workers/worker-registry.ts'
import type { Components } from './components.ts'
import { workerModels } from './worker-models.ts'

/** The registry's peers with what this peer's network knows of each (warrant, link, revocation). */
export function livePeers() {
  return ({ registry, backend }: Components): LivePeers => ({
    list: async () => {
      const warrants = backend.warrants()
      const links = backend.links()
      return (await registry.peers()).map((p) => ({
        ...p,
        warrant: warrants.find((w) => w.agent === p.agent) ?? null,
        link: links.get(p.agent) ?? null,
        revoked: backend.isRevoked(p.agent),
        release: backend.versions?.of(p.agent) ?? null,
      }))
    },
    warrants: () => backend.warrants(),
  })
}

export interface RegistryServiceInit {
  /** Advertised name; default: the host name. */
  name?: string
  tags?: readonly string[]
  version: string
  /** Bytes the shared memory's shards may use here; default a quarter of RAM. */
  memoryMaxBytes?: number
  resampleIntervalMs: number
}

/** Advertises this peer: its capability (re-measured) and heartbeats (load, queue, slots, splits). */
export function registryService(init: RegistryServiceInit) {
  return (c: Components): { registry: RegistryService; unusableModels: () => UnusableModel[] } => {
    let unusable: UnusableModel[] = []
    const describe = async (): Promise<NodeCapability> => {
      const [hardware, listing] = await Promise.all([probeHardware(c.dataDir), c.models.list()])
      unusable = listing.unusable
      // Host names can outgrow the contract's 64 characters; a name only has to be recognisable.
      const name = init.name ?? fitText(hostname(), LIMITS.node_capability.name.max)
      // Shards live in RAM (the index) and on disk: a quarter of RAM unless the operator says otherwise.
      const memoryCapacityBytes = c.backend.agents
        ? (init.memoryMaxBytes ?? Math.floor(hardware.ram_bytes / 4))
        : 0
      return buildCapability(
        {
          name,
          tags: withVisionTags(
            [...(init.tags ?? []), ...engineTags(c.models.backends.status())],
            listing.models,
          ),
          hardware,
          models: listing.models,
          tokensPerSecond: decodeRate(c.models.loadedModels()),
          hostVersion: init.version,
          shardsHeld: c.memory?.shardsHeld() ?? 0,
          memoryCapacityBytes,
        },
        c.logger,
      )
    }
    const registry = new RegistryService({
      conductor: c.conductor,
      heartbeat: c.network.heartbeat,
      describe,
      resampleIntervalMs: init.resampleIntervalMs,
      loadSampler: new LoadSampler(),
      queueDepth: () => c.scheduler.queueDepth(),
      freeSlots: () => freeSlots(c.models.loadedModels()),
      freeModelBytes: () => c.models.freeModelBytes(),
      evictableModelBytes: () => c.models.evictableBytes(),
      onRecordsStored: c.backend.onRecordsStored ?? undefined,
      splits: () =>
        c.splits.views().map(({ model, peers }) => ({
          model,
          peers: peers.map(({ agent, layers, bytes }) => ({ agent, layers, bytes })),
        })),
      logger: c.logger.child({ component: 'registry' }),
    })
    // The shares heads' heartbeats say this peer's RPC worker holds: within the limit, never evicted.
    c.budget.claim('split shares', () => registry.heldForSplits())
    // A new form waits for every member heard from lately, not only those connected now.
    c.backend.versions?.useMembers(() => registry.liveOthers())
    // A load or unload changes the advertised `loaded` flags; the next resample is up to 30 s away.
    c.models.onChange(() => {
      registry
        .refresh()
        .catch((err: unknown) => c.logger.warn({ err }, 'could not advertise the model change'))
    })
    return { registry, unusableModels: () => unusable }
  }
}

export function policyService() {
  return (c: Components) => new PolicyService({ conductor: c.conductor, logger: child(c.logger, 'policy') })
}

/**
 * The kinds of work this peer runs: generation and embeddings with its models, a model too big for
 * this peer alone split over the mesh where it reaches others (a task for it is then served, not refused).
 */
export function workerRegistry() {
  return (c: Components) => {
    const models = workerModels(c.models, () => (c.backend.agents ? c.splits : null))
    return WorkerRegistry.withBuiltins([inferGenerateWorker(models), inferEmbedWorker(models)])
  }
}

/** Tasks: claims, runs, results and receipts; a task may name artifacts as its input and output. */
export function schedulerService() {
  return (c: Components) =>
    new SchedulerService({
      conductor: c.conductor,
      workers: c.workers,
      policies: c.policies,
      onRecordsStored: c.backend.onRecordsStored ?? undefined,
      payloads: c.artifacts ? artifactTaskPayloads(c.artifacts) : undefined,
      capability: () => c.registry.capability,
      barred: (agent) => c.backend.isRevoked(agent),
      versions: c.backend.versions ?? undefined,
      logger: child(c.logger, 'scheduler'),
    })
}

export function daemonMetrics() {
  return (c: Components) => {
    const metrics = new DaemonMetrics({
      peers: async () => ({ peers: await c.peers.list(), warrants: c.peers.warrants() }),
      tasks: () => c.scheduler.list(),
      replication: () => c.backend.replicationStats(),
      direct: () => c.direct.inference.stats(),
      chainActions: async () =>
        Object.fromEntries(
          await Promise.all(
            DNA_NAMES.map(async (dna) => [dna, (await c.conductor.agentInfo(dna)).chain_head.action_seq + 1]),
          ),
        ),
    })
    c.models.onLoaded((name, loadMs) => metrics.modelLoaded(name, loadMs))
    c.usage.onEvents(usageCounters(metrics.registry))
    c.backend.onOpAges?.((ages) => metrics.opsStored(ages))
    return metrics
  }
}

/** Follows a task submitted here (through `/api`, `/v1`, MCP or the CLI) into the metrics. */
export function trackSubmitted(c: Components, hash: string): void {
  trackTask(c.scheduler, c.metrics, hash, (err) => c.logger.warn({ err }, 'task metrics failed'))
}

export function child(logger: Logger, component: string): Logger {
  return logger.child({ component })
}
