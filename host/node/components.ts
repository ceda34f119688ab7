/**
 * What the node's services are built from and reach each other through, in the js-libp2p shape: each
 * service is `service(init) => (components) => Service`, and a service that needs one built after it (the
 * registry advertises the scheduler's queue, which reads the registry's capability) reads it from the
 * components when it is called, not when it is built. Reading one that was never built is a clear error.
 */
import type { ArtifactService } from '../artifacts/artifact-service.ts'
import type { NetworkConfig } from '../config/network-schema.ts'
import type { ModelManager } from '../inference/model-manager.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { LivePeers } from '../interface/live-peers.ts'
import type { MemoryBudget } from '../interface/memory-budget.ts'
import type { IpfsStore } from '../ipfs/ipfs-store.ts'
import type { Logger } from '../log/logger.ts'
import type { MemoryService } from '../memory/memory-service.ts'
import type { DaemonMetrics } from '../metrics/daemon-metrics.ts'
import type { PolicyService } from '../policy/policy-service.ts'
import type { RegistryService } from '../registry/index.ts'
import type { DirectService } from '../requests/direct/direct-service.ts'
import type { RequestRunner } from '../requests/run-request.ts'
import type { SchedulerService } from '../scheduler/scheduler-service.ts'
import type { SplitService } from '../split/split-service.ts'
import type { MeshUsage } from '../usage/mesh-usage.ts'
import type { UsageLedger } from '../usage/usage-ledger.ts'
import type { WorkerRegistry } from '../workers/worker-registry.ts'
import type { NetworkBackend } from './network-backend.ts'

export interface Components {
  logger: Logger
  /** This peer's data dir (keys, chains, models' hashes, memory, artifacts). */
  dataDir: string
  network: NetworkConfig
  /** The conductor and the network under it (the embedded peer, or a Holochain conductor). */
  backend: NetworkBackend
  conductor: ConductorPort
  /** The memory promised on this peer: models reserve theirs, split shares held here are claimed. */
  budget: MemoryBudget
  models: ModelManager
  /** The mesh's peers as this peer sees them. */
  peers: LivePeers
  registry: RegistryService
  /** Null on a network with no IPFS for this peer (Holochain without `--ipfs kubo`). */
  ipfs: IpfsStore | null
  artifacts: ArtifactService | null
  policies: PolicyService
  workers: WorkerRegistry
  scheduler: SchedulerService
  splits: SplitService
  direct: DirectService
  /** Runs a request on the peers: straight to a runner, or through the scheduling round. */
  requests: RequestRunner
  /** Null where this peer cannot reach others directly (Holochain). */
  memory: MemoryService | null
  metrics: DaemonMetrics
  /** What this peer served and was served, from the leaves it signs. */
  usage: UsageLedger
  /** A member's usage as the other peers signed it (usage/1.0.0); null where peers are not reached directly. */
  meshUsage: MeshUsage | null
}

export class ComponentNotBuiltError extends Error {
  static override readonly name = 'ComponentNotBuiltError'
  constructor(readonly component: string) {
    super(`the node's ${component} is read before it is built (read it when called, not when built)`)
    this.name = 'ComponentNotBuiltError'
  }
}

/** Components filled in as the node builds them; reading a missing one throws. */
export function growingComponents(): Components {
  return new Proxy({} as Components, {
    get(target, key) {
      if (typeof key === 'string' && !(key in target)) throw new ComponentNotBuiltError(key)
      return Reflect.get(target, key)
    },
  })
}
