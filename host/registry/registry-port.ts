/** What the rest of the node asks of the registry: what this peer advertises, and the peers it hears. */
import type { NodeCapability } from '../../zomes-bindings/index.ts'
import type { PeerEntry } from '../interface/live-peers.ts'
import type { Startable } from '../interface/startable.ts'

export interface RegistryPort extends Startable {
  /** What this peer advertises now; RegistryNotStartedError before its start. */
  readonly capability: NodeCapability
  /** Re-measures now and advertises again if something changed (e.g. a model was pulled). */
  refresh(): Promise<void>
  /** Every peer known here with its status; self first. */
  peers(): Promise<PeerEntry[]>
}
