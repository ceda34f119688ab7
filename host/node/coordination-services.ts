/**
 * The coordination services: the live view of the peers, what this peer advertises (capability and
 * heartbeats), its policies, the workers it runs, the scheduler, the mesh's usage, and the metrics
 * over all of them.
 */
import { hostname } from 'node:os'
import { DNA_NAMES, fitText, LIMITS } from '../../zomes-bindings/index.ts'
import { artifactTaskPayloads } from '../artifacts/task-payloads.ts'
import { sealedUseKey } from '../conductor/embedded/validation/agent-standing.ts'
import { LoadSampler, probeHardware } from '../hardware/index.ts'
import type { MembraneProof } from '../identity/membrane-grant.ts'
import { decodeRate, engineTags, freeSlots } from '../inference/engine/engine-capability.ts'
import type { UnusableModel } from '../inference/gguf-scan.ts'
import { withVisionTags } from '../inference/vision.ts'
import type { LivePeers } from '../interface/live-peers.ts'
import type { Logger } from '../log/logger.ts'
import { witnessRole } from '../membership/admission-witness.ts'
import { WITNESSED_ADMISSION } from '../membership/invite-service.ts'
import { LegacySealer } from '../membership/legacy-sealer.ts'
import { DaemonMetrics } from '../metrics/daemon-metrics.ts'
import { trackTask } from '../metrics/track-task.ts'
import { usageCounters } from '../metrics/usage-metrics.ts'
import { PolicyService } from '../policy/policy-service.ts'
import { filledPage } from '../registry/filled-page.ts'
import { buildCapability, type RegistryPort, RegistryService } from '../registry/index.ts'
import { readersLenient } from '../registry/lenient-readers.ts'
import { type ClaimWindow, DEFAULT_CLAIM_WINDOW_MS } from '../scheduler/claim-window.ts'
import { SchedulerService } from '../scheduler/scheduler-service.ts'
import { MeshUsage } from '../usage/mesh-usage.ts'
import { inferEmbedWorker } from '../workers/infer-embed.ts'
import { inferGenerateWorker } from '../workers/infer-generate.ts'
import { WorkerRegistry } from '../workers/worker-registry.ts'
import { type Components, type SelfDescription, service } from './components.ts'
import type { NetworkBackend } from './network-backend-port.ts'
import { workerModels } from './worker-models.ts'

/** The registry's peers with what this peer's network knows of each (warrant, link, revocation). */
export function livePeers() {
  return service(
    ['registry', 'backend'],
    ({ registry, backend }): LivePeers => ({
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
      filled: (page) => filledPage(page, (agent) => registry.capabilityOf(agent)),
    }),
  )
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

/** This peer's capability, measured afresh: the machine, its models and engine, its shards. */
export function selfDescription(init: RegistryServiceInit) {
  return service(['dataDir', 'models', 'backend', 'report', 'logger'], (c): SelfDescription => {
    let unusable: UnusableModel[] = []
    return {
      unusable: () => unusable,
      async describe() {
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
            shardsHeld: c.report.shardsHeld(),
            memoryCapacityBytes,
          },
          c.logger,
        )
      },
    }
  })
}

/** Advertises this peer: its capability (re-measured) and heartbeats (load, queue, slots, splits). */
export function registryService(init: Pick<RegistryServiceInit, 'resampleIntervalMs'>) {
  return service(
    ['conductor', 'network', 'backend', 'models', 'budget', 'report', 'description', 'logger'],
    (c) => {
      const registry = new RegistryService({
        conductor: c.conductor,
        heartbeat: c.network.heartbeat,
        describe: () => c.description.describe(),
        resampleIntervalMs: init.resampleIntervalMs,
        loadSampler: new LoadSampler(),
        queueDepth: () => c.report.queueDepth(),
        freeSlots: () => freeSlots(c.models.loadedModels()),
        budget: c.budget,
        evictableModelBytes: () => c.models.evictableBytes(),
        onRecordsStored: c.backend.onRecordsStored ?? undefined,
        isMember: (agent) => c.backend.isMember(agent),
        sharding: shardingOf(c.backend),
        directory: c.backend.directory,
        addresses: c.backend.memberAddresses,
        readersLenient: () => readersLenient(c.backend.versions),
        splits: () => c.report.splits(),
        logger: c.logger.child({ component: 'registry' }),
      })
      // A new form waits for every member heard from lately (just after a start, every one known),
      // not only those connected now.
      c.backend.versions?.useMembers(() => registry.awaitedOthers())
      // A load or unload changes the advertised `loaded` flags; the next resample is up to 30 s away.
      c.models.onChange(() => {
        registry
          .refresh()
          .catch((err: unknown) => c.logger.warn({ err }, 'could not advertise the model change'))
      })
      return registry
    },
    'started',
  )
}

export function policyService() {
  return service(
    ['conductor', 'logger'],
    (c) => new PolicyService({ conductor: c.conductor, logger: child(c.logger, 'policy') }),
  )
}

/**
 * The kinds of work this peer runs: generation and embeddings with its models, a model too big for
 * this peer alone split over the mesh where it reaches others (a task for it is then served, not refused).
 */
export function workerRegistry() {
  return service(['models', 'splits', 'backend'], (c) => {
    const models = workerModels(c.models, c.backend.agents ? c.splits : null)
    return WorkerRegistry.withBuiltins([inferGenerateWorker(models), inferEmbedWorker(models)])
  })
}

/** The claim window where records arrive by polling: 12 windows (FILL_WINDOWS) make 24 s of waiting for a claim. */
const POLLED_CLAIM_WINDOW_MS = 2_000
/**
 * The sweep of a peer whose records are sharded: each reads the open-tasks anchor's links from its R
 * holders and each open task it does not hold with its receipt and cancellation links (1 + 4 gets a
 * task), so it is paced as a claim window, not the in-process 300 ms.
 */
const SHARDED_POLL_MS = 2_000

/** Where `backend` can shard records: whether it does now and its members (the registry's RegistryInit.sharding). */
function shardingOf({ recordsSharded, members }: Pick<NetworkBackend, 'recordsSharded' | 'members'>) {
  return recordsSharded && members ? { now: recordsSharded, members } : null
}

/** The same for the scheduler's known nodes, a member's capability read through the registry (kept there). */
function shardedNodesOf(backend: Pick<NetworkBackend, 'recordsSharded' | 'members'>, registry: RegistryPort) {
  const sharding = shardingOf(backend)
  return sharding && { ...sharding, capabilityOf: (agent: string) => registry.capabilityOf(agent) }
}

/** The scheduler's claim window on `backend`: polled, or while its records are sharded (claim-window.ts). */
function claimWindowOn(backend: Pick<NetworkBackend, 'onRecordsStored' | 'recordsSharded'>): ClaimWindow {
  const sharded = backend.recordsSharded
  if (!backend.onRecordsStored) return POLLED_CLAIM_WINDOW_MS
  return sharded
    ? () => (sharded() ? POLLED_CLAIM_WINDOW_MS : DEFAULT_CLAIM_WINDOW_MS)
    : DEFAULT_CLAIM_WINDOW_MS
}

/** Tasks: claims, runs, results and receipts; a task may name artifacts as its input and output. */
export function schedulerService() {
  return service(
    ['conductor', 'workers', 'policies', 'backend', 'artifacts', 'registry', 'report', 'logger'],
    (c) => {
      const scheduler = new SchedulerService({
        conductor: c.conductor,
        workers: c.workers,
        policies: c.policies,
        onRecordsStored: c.backend.onRecordsStored ?? undefined,
        // A backend that does not wake the scheduler as records arrive (Holochain's gossip, polled) brings a
        // runner's claim back in seconds, not milliseconds: gather claims longer there before giving up.
        claimWindowMs: claimWindowOn(c.backend),
        // Sharded, stored-records events tell of what this peer holds: far tasks are found by sweeping.
        polling: c.backend.recordsSharded ?? undefined,
        sharded: shardedNodesOf(c.backend, c.registry),
        pollMs: c.backend.recordsSharded ? SHARDED_POLL_MS : undefined,
        payloads: c.artifacts ? artifactTaskPayloads(c.artifacts) : undefined,
        capability: () => c.registry.capability,
        barred: (agent) => c.backend.isRevoked(agent),
        versions: c.backend.versions ?? undefined,
        logger: child(c.logger, 'scheduler'),
      })
      c.report.add({ queueDepth: () => scheduler.queueDepth() })
      return scheduler
    },
    'started',
  )
}

/** A member's usage as the other peers signed it, where this peer reaches them directly. */
export function meshUsage() {
  return service(
    ['conductor', 'backend', 'usage', 'peers'],
    ({ conductor, backend, usage, peers }) =>
      backend.agents &&
      new MeshUsage({
        self: conductor.agentPubKey,
        agents: backend.agents,
        ledger: usage,
        peers: () => peers.list(),
      }),
    'started',
  )
}

export function daemonMetrics() {
  return service(['peers', 'scheduler', 'backend', 'conductor', 'models', 'usage'], (c) => {
    const metrics = new DaemonMetrics({
      peers: async () => ({ peers: await c.peers.list(), warrants: c.peers.warrants() }),
      tasks: async () => c.scheduler.known(),
      replication: () => c.backend.replicationStats(),
      traffic: () => c.backend.traffic(),
      sharded: c.backend.recordsSharded ?? undefined,
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
  })
}

/** Follows a task submitted here (through `/api`, `/v1`, MCP or the CLI) into the metrics. */
export function trackSubmitted(c: Pick<Components, 'scheduler' | 'metrics' | 'logger'>, hash: string): void {
  trackTask(c.scheduler, c.metrics, hash, (err) => c.logger.warn({ err }, 'task metrics failed'))
}

export function child(logger: Logger, component: string): Logger {
  return logger.child({ component })
}

/** How often an admin looks whether the mesh's legacy invites can be sealed (members upgrade at their pace). */
const LEGACY_SEAL_CHECK_MS = 30_000

/** On an admin's embedded peer, what retires the invites of the 0.1.0 form (membership/legacy-sealer.ts). */
export function legacySealer(init: { membraneProof: MembraneProof | null }) {
  return service(
    ['backend', 'conductor', 'network', 'logger'],
    ({ backend, conductor, network, logger }) => {
      const { legacy, versions } = backend
      if (legacy === null || versions === null) return null
      return new LegacySealer({
        admin: witnessRole(network, conductor.agentPubKey, init.membraneProof) === 'admin',
        everyMemberReadsWitnessed: () => versions.everySpeaks('admission', WITNESSED_ADMISSION),
        uses: () => legacy.uses(),
        sealed: () => legacy.sealed(),
        sealedKey: (use) => sealedUseKey(use.invite_id, use.agent),
        write: (seal) => conductor.callZome('agent_registry', 'seal_legacy_invites', seal),
        intervalMs: LEGACY_SEAL_CHECK_MS,
        logger: logger.child({ component: 'admission' }),
      })
    },
    'started',
  )
}
