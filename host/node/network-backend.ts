/**
 * The coordination backend a daemon runs, chosen by the network file: an embedded peer (conductor,
 * libp2p node, replication; optionally serving Holochain's WebSocket API), or a Holochain conductor
 * driven through @holochain/client. The node sees only what both can give (the network port), plus the
 * embedded peer's libp2p handles where it has them.
 */

import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { decodeAction } from '../conductor/embedded/action.ts'
import {
  createEmbeddedPeer,
  embeddedOpCarrier,
  heldRedemptions,
  legacyUses,
  membershipOf,
  ownStanding,
  type RecordReads,
  recordReadsOf,
  recordsAbout,
  serveRecords,
  waitForAction,
} from '../conductor/embedded/replication/index.ts'
import { storeRecords } from '../conductor/embedded/validation/record-rules.ts'
import { serveConductorApi } from '../conductor/embedded/websocket-api/conductor-api.ts'
import { libp2pTransportView } from '../conductor/embedded/websocket-api/network-info.ts'
import { progenitorOf } from '../config/network-config.ts'
import type { NetworkConfig } from '../config/network-schema.ts'
import { decodeHashB64, encodeHashB64 } from '../identity/hash.ts'
import { openAgentKey } from '../identity/keystore.ts'
import type { MembraneProof } from '../identity/membrane-grant.ts'
import { agentOfPeer, agentOfPeerB64 } from '../identity/peer-agent.ts'
import type { AgentPort } from '../interface/agent-port.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { ModelDirectoryPort } from '../interface/model-directory.ts'
import type { NetworkPort } from '../interface/network-port.ts'
import type { PeerLink } from '../interface/peer-link.ts'
import type { Logger } from '../log/logger.ts'
import { ADMIT_PROTOCOL } from '../membership/admission-wire.ts'
import { admissionWitness, witnessRole } from '../membership/admission-witness.ts'
import { networkIdHex } from '../membership/invite.ts'
import type { LegacyUse } from '../membership/legacy-sealer.ts'
import { memberProofChain } from '../membership/member-proof.ts'
import { WitnessedRedemptions } from '../membership/witnessed-redemptions.ts'
import { TrafficMeter } from '../metrics/traffic-meter.ts'
import type { PeerVersions } from '../net/mesh-versions.ts'
import type { ModelDirectory } from '../net/model-directory.ts'
import { linkOf } from '../net/peer-links.ts'
import { nowMicros, nowMs } from '../runtime/clock.ts'
import { libp2pAgentPort } from './agent-port.ts'

export interface NetworkBackend extends NetworkPort {
  conductor: ConductorPort
  /** Holochain's admin interface served by this peer (`--admin-port`), or null. */
  adminUrl: string | null
  /**
   * The peer's libp2p node (embedded only), which embedded IPFS shares: the protocols registered
   * through it (bitswap) serve members of the mesh only.
   */
  libp2p: Libp2p | null
  /** Streams and requests to other peers' services by agent (embedded only): splits, direct requests, memory. */
  agents: AgentPort<Stream> | null
  /** Who serves which model beyond the peers heard (embedded, once its node runs one): design 4e. */
  directory: ModelDirectoryPort | null
  /**
   * The release each peer stated in its hello and the gate for new forms (embedded only; a Holochain
   * conductor's peers state none to this host).
   */
  versions: PeerVersions | null
  /**
   * The uses of 0.1.0 invites by members, and those the admins sealed (embedded only): what an admin
   * seals once every member reads witnessed invites (membership/legacy-sealer.ts).
   */
  legacy: { uses(): LegacyUse[]; sealed(): ReadonlySet<string> | null } | null
  /**
   * A record by its action hash wherever it lives (embedded only): from this peer's store, or from its
   * holders over `record/1.0.0`, checked (docs/record.md, "Where records live").
   */
  records: RecordReads | null
  stop(): Promise<void>
}

export interface BackendOptions {
  dataDir: string
  network: NetworkConfig
  listen?: readonly string[]
  peers?: readonly string[]
  mdnsInterface?: string
  adminPort?: number
  adminOrigins?: string
  /** The invite this agent joined its private mesh with, put in its genesis (embedded only). */
  membraneProof?: MembraneProof | null
  logger: Logger
}

export async function startBackend(options: BackendOptions): Promise<NetworkBackend> {
  return options.network.backend === 'holochain' ? startHolochain(options) : startEmbedded(options)
}

async function startEmbedded(options: BackendOptions): Promise<NetworkBackend> {
  // Every protocol's messages and bytes, for /metrics: what a peer pays the mesh (design 4e).
  const traffic = new TrafficMeter()
  const peer = await createEmbeddedPeer({
    metrics: traffic.hook,
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
    // Members only: a get of a record this peer holds, by one that does not (issue 57).
    await serveRecords(peer.node, peer.conductor, peer.replication)
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
      legacy: {
        uses: () => legacyUses(peer.conductor, peer.replication),
        sealed: () => peer.replication.legacySealed(),
      },
      records: recordReadsOf(peer, options.network),
      warrantAuthor: (...args) => peer.replication.warrantAuthor(...args),
      isRevoked: (agent) => peer.replication.isRevoked(agent),
      isMember: (agent) => membershipOf(peer.conductor, peer.replication, agent) === null,
      standing: () => ownStanding(peer.conductor, peer.replication),
      traffic: () => ({ flows: traffic.byProtocol, connections: peer.node.libp2p.getConnections().length }),
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

async function startHolochain(options: BackendOptions): Promise<NetworkBackend> {
  // Loaded only here: @holochain/client costs ~270 ms and ~40 MB that embedded peers need not pay.
  const { startHolochainBackend } = await import('../conductor/holochain/index.ts')
  const backend = await startHolochainBackend({
    dataDir: options.dataDir,
    network: options.network,
    logger: options.logger,
  })
  return {
    conductor: backend.conductor,
    addresses: () => [],
    warrants: () => [],
    links: () => new Map(),
    replicationStats: () => null,
    waitForAction: null,
    carrier: null,
    onRecordsStored: null,
    onOpAges: null,
    warrantAuthor: null,
    isRevoked: () => false,
    isMember: () => true,
    // A Holochain conductor keeps its peers' judgements to itself.
    standing: () => null,
    traffic: () => null,
    adminUrl: null,
    libp2p: null,
    agents: null,
    directory: null,
    records: null,
    versions: null,
    legacy: null,
    stop: () => backend.stop(),
  }
}

/** The node's model directory by agent key (a member's PeerId is its agent key). */
function agentDirectory(directory: ModelDirectory): ModelDirectoryPort {
  return {
    advertise: (model) => directory.advertise(model),
    withdraw: (model) => directory.withdraw(model),
    find: async (model, options) =>
      (await directory.find(model, options)).map(agentOfPeerB64).filter((a): a is string => a !== null),
    stats: () => directory.stats(),
  }
}

function linksByAgent(connections: Connection[]): Map<string, PeerLink> {
  const byPeer = new Map<string, Connection[]>()
  for (const connection of connections) {
    const key = connection.remotePeer.toString()
    byPeer.set(key, [...(byPeer.get(key) ?? []), connection])
  }
  const links = new Map<string, PeerLink>()
  for (const connections of byPeer.values()) {
    const agent = agentOfPeer(connections[0]!.remotePeer)
    const link = linkOf(connections)
    if (agent !== null && link !== null) links.set(encodeHashB64(agent), link)
  }
  return links
}
