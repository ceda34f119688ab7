/** What the rest of the node asks of the registry: what this peer advertises, and the peers it hears. */
import type { Heartbeat, NodeCapability } from '../../zomes-bindings/index.ts'
import type { PeerEntry } from '../interface/live-peers.ts'
import type { Startable } from '../interface/startable.ts'

export interface RegistryPort extends Startable {
  /** What this peer advertises now; RegistryNotStartedError before its start. */
  readonly capability: NodeCapability
  /** Re-measures now and advertises again if something changed (e.g. a model was pulled). */
  refresh(): Promise<void>
  /** Every peer known here with its status; self first. */
  peers(): Promise<PeerEntry[]>
  /** A request for `model` was sent from here: its runners' load news is heard for a while (design 4e). */
  using(model: string): void
  /** This peer's capability and latest heartbeat: what it answers a requester asking its load. */
  own(): { capability: NodeCapability; heartbeat: Heartbeat | null }
  /**
   * An agent's capability: this peer's as advertised, another's as kept here or read from its holders
   * (one read: what a sharded peer's scheduler asks of the members a task's walk meets); null: none.
   */
  capabilityOf(agent: string): Promise<{ author: string; entry: NodeCapability } | null>
  /** Whether every peer's routing news reaches this one (no topics, or a small mesh): what it knows is all. */
  hearsAll(): boolean
}
