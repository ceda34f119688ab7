/**
 * What the node's services are built from, in the js-libp2p shape: each service is
 * `service(needs, build)`, built from the components it names and only those (typed so, and handed
 * so), after them; the build and start order is derived from the needs (./service-plan.ts). No
 * service reads another later: one that must tell a service built before it something (the
 * scheduler its queue to the registry) hands it over through that service's own port.
 */

import type { NodeCapability } from '../../zomes-bindings/index.ts'
import type { ArtifactsPort } from '../artifacts/artifacts-port.ts'
import type { NetworkConfig } from '../config/network-schema.ts'
import type { UnusableModel } from '../inference/gguf-scan.ts'
import type { ModelsPort } from '../inference/models-port.ts'
import type { BudgetPort } from '../interface/budget-port.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { LivePeers } from '../interface/live-peers.ts'
import type { Startable } from '../interface/startable.ts'
import type { IpfsStore } from '../ipfs/ipfs-store.ts'
import type { Logger } from '../log/logger.ts'
import type { MemoryPort } from '../memory/memory-port.ts'
import type { MetricsPort } from '../metrics/metrics-port.ts'
import type { PoliciesPort } from '../policy/policies-port.ts'
import type { RegistryPort, ReportPort } from '../registry/index.ts'
import type { AliasesPort } from '../requests/alias-service.ts'
import type { DirectPort } from '../requests/direct-port.ts'
import type { RequestsPort } from '../requests/requests-port.ts'
import type { SchedulerPort } from '../scheduler/scheduler-port.ts'
import type { SplitsPort } from '../split/splits-port.ts'
import type { MeshUsagePort } from '../usage/mesh-usage-port.ts'
import type { UsagePort } from '../usage/usage-port.ts'
import type { WorkersPort } from '../workers/workers-port.ts'
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
  budget: BudgetPort
  models: ModelsPort
  /** What services built after the registry add to this peer's heartbeat and capability. */
  report: ReportPort
  description: SelfDescription
  registry: RegistryPort
  /** The mesh's peers as this peer sees them. */
  peers: LivePeers
  /** Null on a network with no IPFS for this peer (Holochain without `--ipfs kubo`). */
  ipfs: IpfsStore | null
  artifacts: ArtifactsPort | null
  /** Keeps every artifact at its replication: it offers the node nothing but running. */
  keeper: Startable | null
  /** Seals the mesh's invites of the 0.1.0 form once every member reads witnessed ones (admins, embedded). */
  sealer: Startable | null
  policies: PoliciesPort
  splits: SplitsPort
  workers: WorkersPort
  scheduler: SchedulerPort
  /** What this peer served and was served, from the leaves it signs. */
  usage: UsagePort
  /** A member's usage as the other peers signed it (usage/1.0.0); null where peers are not reached directly. */
  meshUsage: MeshUsagePort | null
  metrics: MetricsPort
  direct: DirectPort
  /** The model aliases in force: the mesh's and this peer's own. */
  aliases: AliasesPort
  /** Runs a request on the peers: straight to a runner, or through the scheduling round. */
  requests: RequestsPort
  /** Null where this peer cannot reach others directly (Holochain). */
  memory: MemoryPort | null
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
