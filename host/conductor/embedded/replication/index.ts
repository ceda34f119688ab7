/**
 * Replication of the embedded backend over libp2p: ops published by gossip and checked on receipt
 * (signature, chain continuity, rules wasm; invalid ones warrant the agent to blame), anti-entropy
 * catch-up on connect and periodically, and signed signals. `createEmbeddedPeer` starts a whole
 * peer (key, node, conductor, replication); `startReplication` wires an existing conductor and node.
 */
export { SYNC_PROTOCOL } from './anti-entropy.ts'
export { createEmbeddedPeer, type EmbeddedPeer, type EmbeddedPeerInit } from './embedded-peer.ts'
export { MalformedMessageError, RecordNotFoundError, RecordRefusedError } from './errors.ts'
export { createGossipSignalTransport, type GossipSignalTransportInit } from './gossip-signal-transport.ts'
export { type GotRecord, HolderGet, type HolderGetInit } from './holder-get.ts'
export { heldRedemptions, knownMembers, legacyUses, membershipOf, ownStanding } from './membership.ts'
export { embeddedOpCarrier } from './op-carrier.ts'
export { decodeOpBatch, encodeOpBatch, type OpBatch, type WireOp, wireOpOf } from './op-wire.ts'
export { RECORD_GET_PROTOCOL } from './record-get-wire.ts'
export {
  type ReadRecord,
  RecordReads,
  type RecordReadsInit,
  recordReadsOf,
  recordsShardedNow,
} from './record-reads.ts'
export { recordsAbout } from './records-about.ts'
export {
  type OpsStoredEvent,
  type Replication,
  type ReplicationInit,
  startReplication,
} from './replicator.ts'
export { type WaitForActionInit, waitForAction } from './wait-for-action.ts'
export { zomeReadsOf } from './zome-reads.ts'
