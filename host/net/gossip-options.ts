/**
 * How a peer gossips: gossipsub with the spec's mesh degree and flood publishing off, so a message
 * costs each peer about D sends whatever the number of peers (scale-anchors.md 2.2). A team's mesh of a
 * few peers behaves as before: with D above its size every peer is in every other's mesh.
 */
import type { GossipSub, GossipsubOpts } from '@libp2p/gossipsub'
import { NEIGHBOUR_TARGET } from './connection-budget.ts'
import { MAX_MODEL_TOPICS, modelTopicPrefix } from './model-topics.ts'
import type { NetworkIdentity } from './network-identity.ts'
import { fastMessageId } from './pubsub.ts'

/** gossipsub's own cost of one topic entry (its GossipsubTopicEntryOverhead), plus a topic id's length. */
const TOPIC_ENTRY_BYTES = 1024 + 64

export function gossipOptions(speedup = 1): Partial<GossipsubOpts> {
  return {
    // Publishing while alone is normal (first peer up); anti-entropy delivers it later.
    allowPublishToZeroTopicPeers: true,
    fastMsgIdFn: fastMessageId,
    // See pubsub.ts: what messages carry is signed already; peers pass on only what they accepted.
    globalSignaturePolicy: 'StrictNoSign',
    asyncValidation: true,
    // IDONTWANT saves sending a big message twice; for a small one (most op batches) it is
    // another message per mesh peer, costing more than the duplicate it would spare.
    idontwantMinDataSize: 16 * 1024,
    // The spec's degrees: a published message goes to D mesh peers, not to every peer (flooding cost
    // each publish one send per connected peer, and so grew with the mesh); see floodsTo (topic-pace.ts).
    floodPublish: false,
    D: 6,
    // A peer dials as many as its topic meshes need at least (connection-budget.ts).
    Dlo: NEIGHBOUR_TARGET,
    // At most one mesh peer past D, not the spec's 12: a peer forwards each message to its mesh, and
    // with room for 12 a mesh fills with the connections a peer holds (ten connected peers: 9 each), so
    // its forwarding would follow its connections (23 a peer at 1,000 simulated). At 16 daemons it
    // changed nothing measured. Grafts past Dhi are refused with a backoff: meshes settle in D..Dhi.
    Dhi: 7,
    // IHAVE to 2 peers outside the mesh a heartbeat, not the spec's max(6, a quarter of them): the
    // mesh delivers, and what it misses anti-entropy (ops) or the next beat (signals) brings. At the
    // spec's figures an idle peer's IHAVE grew with its connections, its largest part of gossip (32
    // daemons: 29.8 ids a second, 14.3 at 8; `npm run bench mesh-peers`).
    Dlazy: 2,
    gossipFactor: 0,
    heartbeatInterval: 1_000 / speedup,
    // The ops and signals topics and the model topics (model-topics.ts); a peer's subscriptions are
    // bounded as a peer's own are.
    maxTopicBytesPerPeer: (MAX_MODEL_TOPICS + 2) * TOPIC_ENTRY_BYTES,
    // Ops and signals (token streams too) must flow over relayed connections.
    runOnLimitedConnection: true,
    // Every peer is one agent, admitted by the network's membrane and verified at the handshake,
    // whatever its address: peers behind one NAT or one relay (its address is theirs on a relayed
    // connection) share an IP, and gossipsub's penalty for more than 10 on one IP graylisted them
    // all from the 15th on (18 daemons on one machine: every peer offline within 16 s).
    scoreParams: { IPColocationFactorWeight: 0 },
  }
}

/**
 * Limits `gossip` to this network's topics: ops, signals and the model topics, by prefix. gossipsub
 * takes an exact list only (a subscription to any other topic, or a message on one, is dropped), so its
 * list is replaced by a prefix check.
 */
export function allowNetworkTopics(gossip: GossipSub, identity: NetworkIdentity): void {
  const prefix = modelTopicPrefix(identity)
  const exact = new Set([identity.opsTopic, identity.signalsTopic])
  const allowed = { has: (topic: string) => exact.has(topic) || topic.startsWith(prefix) }
  ;(gossip as unknown as { allowedTopics: typeof allowed }).allowedTopics = allowed
}
