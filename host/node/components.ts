/**
 * What the node's services are built from, in the js-libp2p shape: each service is
 * `service(needs, build)`, built from the components it names and only those (typed so, and handed
 * so), after them; the build and start order is derived from the needs (./service-plan.ts). No
 * service reads another later: one that must tell a service built before it something (the
 * scheduler its queue to the registry) hands it over through that service's own port.
 */

import type { NodeCapability } from '../../zomes-bindings/index.ts'
import type { ArtifactService } from '../artifacts/artifact-service.ts'
import type { ReplicationKeeper } from '../artifacts/replication-keeper.ts'
import type { NetworkConfig } from '../config/network-schema.ts'
import type { UnusableModel } from '../inference/gguf-scan.ts'
import type { ModelManager } from '../inference/model-manager.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { LivePeers } from '../interface/live-peers.ts'
import type { MemoryBudget } from '../interface/memory-budget.ts'
import type { IpfsStore } from '../ipfs/ipfs-store.ts'
import type { Logger } from '../log/logger.ts'
import type { MemoryService } from '../memory/memory-service.ts'
import type { DaemonMetrics } from '../metrics/daemon-metrics.ts'
import type { PolicyService } from '../policy/policy-service.ts'
import type { PeerReport, RegistryService } from '../registry/index.ts'
import type { DirectService } from '../requests/direct/direct-service.ts'
import type { RequestRunner } from '../requests/run-request.ts'
import type { SchedulerService } from '../scheduler/scheduler-service.ts'
import type { SplitService } from '../split/split-service.ts'
import type { MeshUsage } from '../usage/mesh-usage.ts'
import type { UsageLedger } from '../usage/usage-ledger.ts'
import type { WorkerRegistry } from '../workers/worker-registry.ts'
import type { NetworkBackend } from './network-backend.ts'

/** This peer's capability as measured now, and the model files the last measure could not use. */
export interface SelfDescription {
  describe(): Promise<NodeCapability>
  unusable(): UnusableModel[]
}

export interface Components {
  logger: Logger
  /** This peer's data dir (keys, chains, models' hashes, memory, artifacts). */
  dataDir: string
  network: NetworkConfig
  /** The conductor and the network under it (the embedded peer, or a Holochain conductor). */
  backend: NetworkBackend
  conductor: ConductorPort
  /** The memory promised on this peer: models reserve theirs, split shares and shard indexes are claimed. */
  budget: MemoryBudget
  models: ModelManager
  /** What services built after the registry add to this peer's heartbeat and capability. */
  report: PeerReport
  description: SelfDescription
  registry: RegistryService
  /** The mesh's peers as this peer sees them. */
  peers: LivePeers
  /** Null on a network with no IPFS for this peer (Holochain without `--ipfs kubo`). */
  ipfs: IpfsStore | null
  artifacts: ArtifactService | null
  keeper: ReplicationKeeper | null
  policies: PolicyService
  splits: SplitService
  workers: WorkerRegistry
  scheduler: SchedulerService
  /** What this peer served and was served, from the leaves it signs. */
  usage: UsageLedger
  /** A member's usage as the other peers signed it (usage/1.0.0); null where peers are not reached directly. */
  meshUsage: MeshUsage | null
  metrics: DaemonMetrics
  direct: DirectService
  /** Runs a request on the peers: straight to a runner, or through the scheduling round. */
  requests: RequestRunner
  /** Null where this peer cannot reach others directly (Holochain). */
  memory: MemoryService | null
}

/** The components the node is handed; every other is a service's. */
export type Given = Pick<Components, 'logger' | 'dataDir' | 'network'>

/**
 * How a built service runs: `started` ones are started in the build order and stopped in reverse;
 * `open` ones run once built (a socket, a libp2p node; they have `stop`): stopped in reverse, and also
 * when a later build fails. Absent: nothing runs. A service built as null (none on this network) runs nothing.
 */
export type Runs = 'started' | 'open'

export interface ServiceFactory<T> {
  needs: readonly (keyof Components)[]
  build: (c: Components) => T | Promise<T>
  runs?: Runs
}

/** A service built from the components it names, and handed only those. */
export function service<const N extends keyof Components, T>(
  needs: readonly N[],
  build: (c: Pick<Components, N>) => T | Promise<T>,
  runs?: Runs,
): ServiceFactory<T> {
  return { needs, build, ...(runs ? { runs } : {}) }
}

/** One factory for every component but the given ones. */
export type ServiceFactories = {
  [K in Exclude<keyof Components, keyof Given>]: ServiceFactory<Components[K]>
}
