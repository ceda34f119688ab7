/**
 * What replication (replicator.ts) is given and what it offers the rest of the embedded backend.
 */
import type { DnaName } from '../../../../zomes-bindings/index.ts'
import type { ReplicationStats, WarrantView } from '../../../interface/network-port.ts'
import type { Logger } from '../../../log/logger.ts'
import type { RippleNode } from '../../../net/create-node.ts'
import type { StoredAction } from '../../../storage/chain-store.ts'
import type { EmbeddedConductor } from '../conductor.ts'
import type { IngestResult } from './ingest-result.ts'
import type { WireOp } from './op-wire.ts'

export interface ReplicationInit {
  conductor: EmbeddedConductor
  /** The peer's node; its request handlers may be registered before or after it started. */
  node: RippleNode
  /** Period of anti-entropy rounds. Default 5 s. */
  intervalMs?: number
  /** Peers asked in each periodic round. Default 2. */
  peersPerRound?: number
  /** The network file's `record.holders`; default DEFAULT_RECORD_HOLDERS. */
  holders?: number
  logger?: Logger
}

/** Ops of other agents stored here (by gossip or catch-up), per DNA, in store order. */
export interface OpsStoredEvent {
  dna: DnaName
  actions: StoredAction[]
}

export interface Replication {
  /** A snapshot of the counters. */
  readonly stats: ReplicationStats
  /** Every warrant this peer issued, oldest first. */
  listWarrants(): WarrantView[]
  /** True when `agent` (HoloHashB64) is warranted here. */
  isWarranted(agent: string): boolean
  /** The uses of 0.1.0 invites the admins sealed (sealedUseKey), or null while none is sealed. */
  legacySealed(): ReadonlySet<string> | null
  /** True when a revocation held here names `agent` (HoloHashB64) or the invite it joined with. */
  isRevoked(agent: string): boolean
  /**
   * The members this peer counts now (membership.ts `knownMembers`), itself among them: read again only
   * once the store was written or a revocation, seal or warrant held (member-roll.ts).
   */
  members(): readonly string[]
  /** True when `agent` is among `members()`, or is this peer. */
  isMember(agent: string): boolean
  /**
   * Warrants the author of a record for what the host found wrong with it outside the rules (an
   * artifact whose bytes are not what it says): its later ops are ignored, as for an invalid op.
   */
  warrantAuthor(dna: DnaName, agent: string, actionHash: string, rule: string, reason: string): void
  /**
   * Checks and stores ops that the agent `from` carried here outside gossip (a runner's batch beside its
   * proof), as if it had gossiped them; what they build on and is not held here is asked of it.
   */
  receiveCarried(dna: DnaName, ops: WireOp[], from: string): IngestResult | null
  /** Runs an anti-entropy exchange with every connected peer now. */
  syncNow(): Promise<void>
  /** Called after ops of other agents are stored (schedulers watch tasks this way). */
  onOpsStored(listener: (event: OpsStoredEvent) => void): () => void
  /** Stops publishing, receiving and syncing; the node and conductor stay up. */
  stop(): Promise<void>
}
