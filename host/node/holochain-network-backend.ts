/**
 * The holochain backend as the node sees it: a Holochain 0.6 conductor (the record and its gossip) and,
 * where the network file has a libp2p section, a libp2p node beside it for what Holochain gives a host
 * no way to do: direct member-only streams (direct requests, the shared memory, splits), the model
 * directory, the peers' stated releases, and the witnessing of invites (`admit/1.0.0`). The node's
 * PeerId is the agent's key, as on the embedded backend, and its member gate asks the conductor who is a
 * member. The revocations the conductor holds bar their agents here as on embedded: denied on the node,
 * shown revoked, not routed to or scheduled (../membership/conductor-revocations.ts). Without a libp2p
 * section the daemon runs on the conductor alone (requests take the task round).
 */
import { progenitorOf } from '../config/network-config.ts'
import type { NetworkConfig } from '../config/network-schema.ts'
import { encodeHashB64 } from '../identity/hash.ts'
import { type AgentKey, openAgentKey } from '../identity/keystore.ts'
import { peerIdOfAgent } from '../identity/peer-agent.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import { ADMIT_PROTOCOL } from '../membership/admission-wire.ts'
import { admissionWitness, witnessRole } from '../membership/admission-witness.ts'
import { conductorAdmissionCheck } from '../membership/conductor-members.ts'
import { ConductorRevocations } from '../membership/conductor-revocations.ts'
import { networkIdHex } from '../membership/invite.ts'
import { WitnessedRedemptions } from '../membership/witnessed-redemptions.ts'
import { GossipMeter } from '../metrics/gossip-parts.ts'
import { TrafficMeter } from '../metrics/traffic-meter.ts'
import { createRippleNode, type RippleNode } from '../net/create-node.ts'
import { peerKeyFromSeed } from '../net/peer-key.ts'
import { nowMs } from '../runtime/clock.ts'
import { libp2pAgentPort } from './agent-port.ts'
import { agentAddresses, agentDirectory, linksByAgent } from './libp2p-views.ts'
import type { BackendOptions, NetworkBackend } from './network-backend-port.ts'

export async function startHolochain(options: BackendOptions): Promise<NetworkBackend> {
  // Loaded only here: @holochain/client costs ~270 ms and ~40 MB that embedded peers need not pay.
  const { startHolochainBackend } = await import('../conductor/holochain/index.ts')
  const backend = await startHolochainBackend({
    dataDir: options.dataDir,
    network: options.network,
    membraneProof: options.membraneProof,
    logger: options.logger,
  })
  let beside: Beside | null = null
  const revocations = new ConductorRevocations({
    conductor: backend.conductor,
    // No node (yet): nothing to drop; the node's gate reads the revocations as each peer connects.
    onRevoked: (agent) => void beside?.node.deny(peerIdOfAgent(agent)),
    logger: options.logger.child({ component: 'revocations' }),
  })
  try {
    beside = await besideNode(options, backend.conductor, revocations)
    await revocations.start()
  } catch (err) {
    await beside?.node.stop()
    await backend.stop()
    throw err
  }
  const node = beside?.node ?? null
  return {
    conductor: backend.conductor,
    addresses: () => node?.multiaddrs().map((ma) => ma.toString()) ?? [],
    warrants: () => [],
    links: () => (node ? linksByAgent(node.libp2p.getConnections().filter(node.usable)) : new Map()),
    replicationStats: () => null,
    waitForAction: null,
    carrier: null,
    onRecordsStored: null,
    onOpAges: null,
    warrantAuthor: null,
    isRevoked: (agent) => revocations.has(agent),
    // The conductor keeps non-members out of its DHT (the membrane): whatever it holds is a member's.
    isMember: () => true,
    // A Holochain conductor keeps its peers' judgements to itself, but not the admins' revocations.
    standing: () =>
      revocations.has(backend.conductor.agentPubKey) ? 'an admin of the mesh revoked this peer' : null,
    traffic: () =>
      beside && {
        flows: beside.traffic.byProtocol,
        connections: beside.node.libp2p.getConnections().length,
        dials: beside.node.memberDials,
        opened: beside.node.connectionsOpened,
        gossip: beside.gossip.parts,
      },
    adminUrl: null,
    libp2p: node ? node.gate.membersOnly(node.libp2p) : null,
    agents: node && libp2pAgentPort(node),
    directory: node && agentDirectory(node.directory),
    records: null,
    recordsSharded: null,
    members: null,
    versions: node?.versions ?? null,
    memberAddresses: node ? agentAddresses(node.memberAddresses) : null,
    legacy: null,
    async stop() {
      revocations.stop()
      await node?.stop()
      await backend.stop()
    },
  }
}

interface Beside {
  node: RippleNode
  traffic: TrafficMeter
  gossip: GossipMeter
}

/**
 * The libp2p node beside the conductor, started, or null: the network file has no libp2p section, or
 * the conductor's agent is not this data dir's Ripple agent (a conductor named by admin_url, or an app
 * installed before the cells took the Ripple key), whose PeerId could not be its agent key.
 */
async function besideNode(
  options: BackendOptions,
  conductor: ConductorPort,
  revocations: ConductorRevocations,
): Promise<Beside | null> {
  const { network, logger } = options
  if (network.libp2p === undefined) return null
  const key = await openAgentKey(options.dataDir)
  if (encodeHashB64(key.agentPubKey) !== conductor.agentPubKey) {
    logger.warn(
      { conductorAgent: conductor.agentPubKey },
      "no libp2p node beside this conductor: its cells are not this data dir's Ripple agent's",
    )
    return null
  }
  const traffic = new TrafficMeter()
  const gossip = new GossipMeter()
  const node = await createRippleNode({
    network,
    privateKey: await peerKeyFromSeed(key.exportSeed()),
    listen: options.listen ? [...options.listen] : undefined,
    peers: [...(options.peers ?? [])],
    mdnsInterface: options.mdnsInterface,
    metrics: gossip.wrap(traffic.hook),
    logger,
    // Handlers first, so no peer asks before they exist.
    start: false,
  })
  try {
    node.gate.use(conductorAdmissionCheck(conductor, revocations))
    await node.rpc.handle(ADMIT_PROTOCOL, await witnessOf(network, key, conductor, options), {
      openToNetwork: true,
    })
    await node.start()
  } catch (err) {
    await node.stop()
    throw err
  }
  return { node, traffic, gossip }
}

/**
 * This member's side of `admit/1.0.0` over its conductor. The real conductor's genesis check admits
 * only statements the progenitor witnessed (it reads no other agent's chain), so the progenitor is the
 * witness that counts here and it sends no proofs of its own membership; the uses it counts are those
 * it witnessed (the zomes keep no count of an invite's uses).
 */
async function witnessOf(
  network: NetworkConfig,
  key: AgentKey,
  conductor: ConductorPort,
  options: Pick<BackendOptions, 'dataDir' | 'membraneProof' | 'logger'>,
) {
  const logger = options.logger.child({ component: 'admission' })
  const self = conductor.agentPubKey
  return admissionWitness({
    networkId: networkIdHex(network),
    key,
    agent: self,
    role: self === progenitorOf(network) ? witnessRole(network, self, null) : null,
    heldRedemptions: () => [],
    witnessed: await WitnessedRedemptions.open(options.dataDir, { logger }),
    nowMs,
    logger,
  })
}
