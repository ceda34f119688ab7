/**
 * One peer of an embedded network: its agent key, the libp2p node whose PeerId is that key, the
 * embedded conductor with signals over the node's gossip, and replication between them. The daemon
 * and the scenario harness both start peers through this, so they run the same mesh.
 *
 * @example
 * const peer = await createEmbeddedPeer({ dataDir, network: await loadNetworkConfig('local'), logger })
 * await peer.conductor.callZome('agent_registry', 'advertise_capability', capability)
 * await peer.stop()
 */
import { join } from 'node:path'
import type { NetworkConfig } from '../../../config/network-schema.ts'
import { openAgentKey } from '../../../identity/keystore.ts'
import type { MembraneProof } from '../../../identity/membrane-grant.ts'
import { type Logger, silentLogger } from '../../../log/logger.ts'
import { createRippleNode, type RippleNode, type RippleNodeInit } from '../../../net/create-node.ts'
import { type HeardReleases, keepHeardReleases } from '../../../net/heard-releases-file.ts'
import { peerKeyFromSeed } from '../../../net/peer-key.ts'
import type { EmbeddedConductor } from '../conductor.ts'
import { createEmbeddedConductor } from '../index.ts'
import type { RulesValidator } from '../validation/validator.ts'
import { createGossipSignalTransport } from './gossip-signal-transport.ts'
import { admissionCheck } from './membership.ts'
import { serveRecords } from './record-serve.ts'
import { type Replication, type ReplicationInit, startReplication } from './replicator.ts'

export interface EmbeddedPeerInit
  extends Pick<
    RippleNodeInit,
    | 'listen'
    | 'peers'
    | 'mdnsInterface'
    | 'loopbackTuning'
    | 'handshakeTimeoutMs'
    | 'peerExchangeIntervalMs'
    | 'metrics'
    | 'statement'
  > {
  /** Holds the agent key and the conductor's database. */
  dataDir: string
  /** An embedded network (it has a libp2p section). */
  network: NetworkConfig
  replication?: Pick<ReplicationInit, 'intervalMs' | 'peersPerRound'>
  /** Tests only: rules other than the wasm. */
  rulesValidator?: RulesValidator
  rulesWasmPath?: string
  /** The invite written into this agent's genesis, on a network that requires one. */
  membraneProof?: MembraneProof | null
  logger?: Logger
}

export interface EmbeddedPeer {
  readonly conductor: EmbeddedConductor
  readonly node: RippleNode
  readonly replication: Replication
  /** Stops replication, then the node, then closes the conductor. */
  stop(): Promise<void>
}

export async function createEmbeddedPeer(init: EmbeddedPeerInit): Promise<EmbeddedPeer> {
  const logger = init.logger ?? silentLogger()
  const key = await openAgentKey(init.dataDir)
  // Not started yet: the catch-up handler must exist before any peer can ask.
  const node = await createRippleNode({
    network: init.network,
    privateKey: await peerKeyFromSeed(key.exportSeed()),
    listen: init.listen,
    peers: init.peers,
    mdnsInterface: init.mdnsInterface,
    loopbackTuning: init.loopbackTuning,
    handshakeTimeoutMs: init.handshakeTimeoutMs,
    peerExchangeIntervalMs: init.peerExchangeIntervalMs,
    metrics: init.metrics,
    statement: init.statement,
    logger,
    // Without mDNS (internet networks), peers met before are remembered with the data and redialled
    // at the next start; on a LAN, mDNS finds them again anyway.
    peerStoreDir: init.network.libp2p?.mdns === false ? join(init.dataDir, 'peers') : undefined,
    start: false,
  })
  let conductor: EmbeddedConductor | undefined
  let replication: Replication | undefined
  let releases: HeardReleases | undefined
  try {
    // Before the node starts: what the members stated, as an earlier run heard it (a restart of a
    // big mesh's peer shards at once, as the mesh does, not once it heard every member again).
    releases = await keepHeardReleases(init.dataDir, node.versions, logger)
    conductor = await createEmbeddedConductor({
      dataDir: init.dataDir,
      network: init.network,
      rulesValidator: init.rulesValidator,
      rulesWasmPath: init.rulesWasmPath,
      membraneProof: init.membraneProof,
      signalTransport: createGossipSignalTransport({
        pubsub: node.pubsub,
        topics: node.modelTopics,
        rpc: node.rpc,
        key,
        versions: node.versions,
        logger,
      }),
      logger,
    })
    replication = await startReplication({
      conductor,
      node,
      logger,
      holders: init.network.record?.holders,
      ...init.replication,
    })
    node.gate.use(admissionCheck(conductor, replication))
    // Members only: a get or list of what this peer holds (issue 57), by every embedded peer, not the
    // daemon's alone: the gets of what a held op reads (held-needs.ts) go to peers started here too.
    await serveRecords(node, conductor, replication)
    await node.start()
  } catch (err) {
    await replication?.stop()
    await node.stop()
    await releases?.close()
    await conductor?.close()
    throw err
  }
  const started = { conductor, node, replication, releases }
  let stopping: Promise<void> | undefined
  return {
    conductor,
    node,
    replication,
    stop() {
      stopping ??= (async () => {
        await started.replication.stop()
        await started.node.stop()
        await started.releases.close()
        await started.conductor.close()
      })()
      return stopping
    },
  }
}
