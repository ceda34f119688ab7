/**
 * The coordination backend a daemon runs, chosen by the network file: an embedded peer (conductor,
 * libp2p node, replication; optionally serving Holochain's WebSocket API), or a Holochain conductor
 * driven through @holochain/client. The node sees only what both can give (the network port), plus the
 * embedded peer's libp2p handles where it has them.
 */

import { decodeAction } from '../conductor/embedded/action.ts'
import {
  createEmbeddedPeer,
  embeddedOpCarrier,
  heldRedemptions,
  legacyUses,
  ownStanding,
  recordReadsOf,
  recordsAbout,
  recordsShardedNow,
  waitForAction,
  zomeReadsOf,
} from '../conductor/embedded/replication/index.ts'
import { storeRecords } from '../conductor/embedded/validation/record-rules.ts'
import { serveConductorApi } from '../conductor/embedded/websocket-api/conductor-api.ts'
import { libp2pTransportView } from '../conductor/embedded/websocket-api/network-info.ts'
import { progenitorOf } from '../config/network-config.ts'
import { decodeHashB64 } from '../identity/hash.ts'
import { openAgentKey } from '../identity/keystore.ts'
import { ADMIT_PROTOCOL } from '../membership/admission-wire.ts'
import { admissionWitness, witnessRole } from '../membership/admission-witness.ts'
import { networkIdHex } from '../membership/invite.ts'
import { memberProofChain } from '../membership/member-proof.ts'
import { WitnessedRedemptions } from '../membership/witnessed-redemptions.ts'
import { GossipMeter } from '../metrics/gossip-parts.ts'
import { TrafficMeter } from '../metrics/traffic-meter.ts'
import { nowMicros, nowMs } from '../runtime/clock.ts'
import { libp2pAgentPort } from './agent-port.ts'
import { startHolochain } from './holochain-network-backend.ts'
import { agentAddresses, agentDirectory, linksByAgent } from './libp2p-views.ts'
import type { BackendOptions, NetworkBackend } from './network-backend-port.ts'

export type { BackendOptions, NetworkBackend }

export async function startBackend(options: BackendOptions): Promise<NetworkBackend> {
  return options.network.backend === 'holochain' ? startHolochain(options) : startEmbedded(options)
}

async function startEmbedded(options: BackendOptions): Promise<NetworkBackend> {
  // Every protocol's messages and bytes, for /metrics: what a peer pays the mesh (design 4e).
  const traffic = new TrafficMeter()
  // And its gossip by part: which of it grows with the mesh (issue 56).
  const gossip = new GossipMeter()
  const peer = await createEmbeddedPeer({
    metrics: gossip.wrap(traffic.hook),
    dataDir: options.dataDir,
    network: options.network,
    listen: options.listen ? [...options.listen] : undefined,
    peers: [...(options.peers ?? [])],
    mdnsInterface: options.mdnsInterface,
    membraneProof: options.membraneProof,
    logger: options.logger,
  })
  try {
    const key = await openAgentKey(options.dataDir)
    const admissionLogger = options.logger.child({ component: 'admission' })
    const self = peer.conductor.agentPubKey
    const progenitor = progenitorOf(options.network)
    // Open to every peer of the network, members or not: a joiner asks before it has a genesis.
    await peer.node.rpc.handle(
      ADMIT_PROTOCOL,
      admissionWitness({
        networkId: networkIdHex(options.network),
        key,
        agent: self,
        role: witnessRole(options.network, self, options.membraneProof ?? null),
        heldRedemptions: (inviteId) => heldRedemptions(peer.conductor, inviteId),
        witnessed: await WitnessedRedemptions.open(options.dataDir, { logger: admissionLogger }),
        nowMs,
        memberProofs: () =>
          self === progenitor
            ? []
            : memberProofChain(self, progenitor, (agent) =>
                agent === self
                  ? options.membraneProof
                  : storeRecords(
                      peer.conductor.store,
                      peer.conductor.cell('agent_registry').dnaHash,
                    ).genesisProof(decodeHashB64(agent, 'agent')),
              ),
        logger: admissionLogger,
      }),
      { openToNetwork: true },
    )
    // Zome reads of records this peer does not hold ask their holders, once records are sharded.
    const zomeReads = zomeReadsOf(peer, options.network)
    peer.conductor.remoteReads.attach(zomeReads)
    const api =
      options.adminPort === undefined
        ? null
        : await serveConductorApi({
            conductor: peer.conductor,
            network: options.network,
            transport: libp2pTransportView(peer.node),
            sign: (bytes) => key.sign(bytes),
            adminPort: options.adminPort,
            adminOrigins: options.adminOrigins,
            logger: options.logger,
          })
    // Its own genesis passed its own rules; that others refuse it (a used invite) shows as their ops arrive.
    let told: string | null = null
    const tell = () => {
      const standing = ownStanding(peer.conductor, peer.replication)
      if (standing !== null && standing !== told)
        options.logger.warn({ standing }, 'the mesh refuses this peer')
      told = standing
    }
    tell()
    peer.replication.onOpsStored((event) => {
      if (event.dna === 'agent_registry') tell()
    })
    return {
      conductor: peer.conductor,
      addresses: () => peer.node.multiaddrs().map((ma) => ma.toString()),
      warrants: () => peer.replication.listWarrants(),
      links: () => linksByAgent(peer.node.libp2p.getConnections().filter(peer.node.usable)),
      replicationStats: () => peer.replication.stats,
      waitForAction: (hash, timeoutMs) =>
        waitForAction({ store: peer.conductor.store, replication: peer.replication }, hash, timeoutMs),
      carrier: embeddedOpCarrier(peer.conductor, peer.replication),
      onRecordsStored: (dna, listener) =>
        peer.replication.onOpsStored((event) => {
          if (event.dna === dna) listener(recordsAbout(event.dna, event.actions))
        }),
      onOpAges: (listener) =>
        peer.replication.onOpsStored((event) => {
          const now = nowMicros()
          listener(event.actions.map((stored) => (now - decodeAction(stored.bytes).timestamp) / 1e6))
        }),
      adminUrl: api?.adminUrl ?? null,
      libp2p: peer.node.gate.membersOnly(peer.node.libp2p),
      agents: libp2pAgentPort(peer.node),
      directory: agentDirectory(peer.node.directory),
      versions: peer.node.versions,
      memberAddresses: agentAddresses(peer.node.memberAddresses),
      legacy: {
        uses: () => legacyUses(peer.conductor, peer.replication),
        sealed: () => peer.replication.legacySealed(),
      },
      records: recordReadsOf(peer, options.network),
      recordsSharded: recordsShardedNow(peer, options.network),
      members: () => peer.replication.members(),
      warrantAuthor: (...args) => peer.replication.warrantAuthor(...args),
      isRevoked: (agent) => peer.replication.isRevoked(agent),
      isMember: (agent) => peer.replication.isMember(agent),
      standing: () => ownStanding(peer.conductor, peer.replication),
      traffic: () => ({
        flows: traffic.byProtocol,
        connections: peer.node.libp2p.getConnections().length,
        reads: zomeReads.reads(),
        dials: peer.node.memberDials,
        opened: peer.node.connectionsOpened,
        gossip: gossip.parts,
      }),
      async stop() {
        await api?.close()
        await peer.stop()
      },
    }
  } catch (err) {
    await peer.stop()
    throw err
  }
}
