/**
 * What the services and the API may know of the network under the conductor: where others reach this
 * peer, the warrants it issued, how it is linked to each peer, replication's counters, and when records
 * arrive. The embedded backend answers all of it; a Holochain conductor keeps these to itself, so its
 * port answers "none" explicitly (empty lists, null) instead of leaving members out.
 */
import type { DnaName } from '../../zomes-bindings/index.ts'
import type { OpCarrier } from './carried-ops.ts'
import type { PeerLink } from './peer-link.ts'

/** Counters since replication started. */
export interface ReplicationStats {
  /** Ops of this agent published by gossip. */
  published: number
  /** Ops received by gossip. */
  gossiped: number
  /** Ops received by catch-up (anti-entropy). */
  fetched: number
  /** Of the fetched ops, those already held: anti-entropy keeps this at zero. */
  refetched: number
  stored: number
  /** Ops received (either way) that were already held. */
  duplicates: number
  /** Ops from warranted agents, of this agent's own chains, or of DNAs this conductor lacks. */
  ignored: number
  /** Invalid ops dropped. */
  rejected: number
  /** Ops waiting now for predecessors or dependencies. */
  pending: number
  /** Anti-entropy exchanges completed. */
  syncs: number
  /** Neighbourhood ops pushed to their holders and pushed here (sharded records only). */
  pushes: PushStats
}

/**
 * Neighbourhood ops pushed straight to their holders while records are sharded (issue 57), since
 * start: pushes (batches of ops to one holder) sent, acknowledged and given up after every retry, and
 * the ops pushed here, received and kept (stored, already held, or waiting for what precedes them).
 */
export interface PushStats {
  sent: number
  acked: number
  failed: number
  opsReceived: number
  opsKept: number
}

/** Messages and bytes of one protocol each way since start (payload; the transport's framing not counted). */
export interface ProtocolFlow {
  msgsIn: number
  msgsOut: number
  bytesIn: number
  bytesOut: number
}

/**
 * Gossipsub RPC parts of one kind sent since start: how many (of IHAVE, IWANT and IDONTWANT, the
 * message ids they carry) and their bytes as encoded.
 */
export interface GossipPartSent {
  count: number
  bytes: number
}

/**
 * Reads a zome call asked of holders since start (sharded records, `record/1.0.0`), by DNA, the zome
 * function that missed them, and kind: `record` a get and what targets it, `links` a base's links.
 */
export interface RecordReadCount {
  dna: string
  fn: string
  kind: 'record' | 'links'
  count: number
}

/** What this peer's network costs it: traffic by protocol, and its open connections now. */
export interface NetTraffic {
  flows: ReadonlyMap<string, ProtocolFlow>
  connections: number
  /** Zome reads asked of holders (embedded; none where the backend reads for itself). */
  reads?: readonly RecordReadCount[]
  /**
   * Dials of members by the way tried (net/member-dial.ts): the peer store, the addresses they told in
   * their heartbeats, a directory walk (each one a lookup). Where there is a libp2p node.
   */
  dials?: Readonly<Record<'stored' | 'told' | 'walk', number>>
  /** Connections opened since start, by direction (net/connection-opens.ts). Where there is a libp2p node. */
  opened?: Readonly<Record<'inbound' | 'outbound', number>>
  /** Gossip sent by `<topic class>:<part>` (metrics/gossip-parts.ts). Where there is a libp2p node. */
  gossip?: ReadonlyMap<string, GossipPartSent>
}

/** A warrant as the API shows it (hashes as HoloHashB64). */
export interface WarrantView {
  agent: string
  /** Null for a DNA this conductor does not run (a warrant from another network's DNA). */
  dna: DnaName | null
  rule: string
  reason: string
  action_hash: string | null
  reported_by: string
  /** Microseconds since the Unix epoch. */
  timestamp: number
}

/** A record (HoloHashB64 action hash) that a stored link is about, and the link's type. */
export interface RecordAbout {
  record: string
  link: string
}

/** Resolves true once this peer holds an action (written here or received and verified), false at the timeout. */
export type ActionWaiter = (actionHash: string, timeoutMs: number) => Promise<boolean>

export interface NetworkPort {
  /** Where other machines reach this peer (`ripple up --peer <one of these>`); none on Holochain. */
  addresses(): string[]
  warrants(): WarrantView[]
  /** How this peer is connected to each agent it is connected to, by agent key. */
  links(): Map<string, PeerLink>
  replicationStats(): ReplicationStats | null
  /** Null where the backend gives no such notification (Holochain): callers poll. */
  waitForAction: ActionWaiter | null
  /** Ops carried beside what cites them (a runner's batch with its proof); null on Holochain, which gossips its own. */
  carrier: OpCarrier | null
  /**
   * Calls back when records of a DNA arrive, with the records their links are about (the scheduler
   * wakes only those tasks); null on Holochain, where the services poll instead.
   */
  onRecordsStored: ((dna: DnaName, listener: (about: readonly RecordAbout[]) => void) => () => void) | null
  /**
   * How old (seconds since their author's timestamp) the ops of other agents are when this peer stores
   * them: the replication lag (catch-up of old history counts too); null on Holochain.
   */
  onOpAges: ((listener: (ages: readonly number[]) => void) => () => void) | null
  /** Warrants a record's author for what the host found wrong (null: this backend cannot). */
  warrantAuthor:
    | ((dna: DnaName, agent: string, actionHash: string, rule: string, reason: string) => void)
    | null
  /** Whether a revocation held here bars an agent (always false where none can be held). */
  isRevoked(agent: string): boolean
  /**
   * Whether `agent` is a member as this peer's store shows (its genesis held and valid, neither revoked
   * nor warranted): what a heartbeat or a version statement must come from to count. Always true where
   * the conductor itself keeps non-members out (Holochain's membrane).
   */
  isMember(agent: string): boolean
  /** Traffic by protocol and connections (embedded); null where the backend keeps its network to itself. */
  traffic(): NetTraffic | null
  /** Why the mesh refuses this peer, as far as its own store shows (a used invite, a revocation); else null. */
  standing(): string | null
}
