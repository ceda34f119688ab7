/**
 * Every service of one peer, each naming what it needs: the order they are built, started and
 * stopped in comes from those needs (./service-plan.ts); the order written here decides only between
 * services that need nothing of each other.
 */
import type { NetworkConfig } from '../config/network-schema.ts'
import type { MembraneProof } from '../identity/membrane-grant.ts'
import type { IpfsChoice } from '../ipfs/ipfs-choice.ts'
import type { Logger } from '../log/logger.ts'
import { PeerReport } from '../registry/index.ts'
import { UsageLedger } from '../usage/usage-ledger.ts'
import { type ServiceFactories, service } from './components.ts'
import {
  daemonMetrics,
  legacySealer,
  livePeers,
  meshUsage,
  policyService,
  type RegistryServiceInit,
  registryService,
  schedulerService,
  selfDescription,
  workerRegistry,
} from './coordination-services.ts'
import { artifactService, ipfsStore, memoryService, replicationKeeper } from './data-services.ts'
import {
  aliasService,
  directService,
  type ModelServiceInit,
  memoryBudget,
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

export function nodeServices(init: HostNodeInit): ServiceFactories {
  return {
    backend: service(
      ['dataDir', 'network', 'logger'],
      (c) => startBackend({ ...init.backend, ...c, membraneProof: init.membraneProof }),
      'open',
    ),
    conductor: service(['backend'], ({ backend }) => backend.conductor),
    budget: memoryBudget(init),
    models: modelManager(init),
    report: service([], () => new PeerReport()),
    description: selfDescription(init),
    registry: registryService(init),
    peers: livePeers(),
    ipfs: ipfsStore(init.ipfs),
    artifacts: artifactService({ maxBytes: init.ipfsMaxBytes }),
    policies: policyService(),
    splits: splitService(init),
    workers: workerRegistry(),
    scheduler: schedulerService(),
    usage: service([], () => new UsageLedger()),
    metrics: daemonMetrics(),
    direct: directService(init),
    meshUsage: meshUsage(),
    keeper: replicationKeeper(),
    sealer: legacySealer(init),
    aliases: aliasService(),
    requests: requestRunner(),
    memory: memoryService(),
  }
}
