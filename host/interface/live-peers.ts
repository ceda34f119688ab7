/**
 * The one live view of the mesh's peers that every service reads (routing, splits, memory, artifacts'
 * replication, metrics, the API): each peer's capability (models, backend, memory capacity) joined with
 * its last heartbeat (load, free slots), and what this peer knows of it (a warrant, the link, a revocation).
 */
import type { Heartbeat, NodeCapability } from '../../zomes-bindings/index.ts'
import type { WarrantView } from './network-port.ts'
import type { PeerLink } from './peer-link.ts'
import type { ReleaseStatement } from './release.ts'

export type PeerStatus = 'online' | 'stale' | 'offline'

export interface PeerEntry {
  agent: string
  self: boolean
  status: PeerStatus
  /** From the peer's capability entry; null until it is known here. */
  name: string | null
  capability: NodeCapability | null
  /** The last load it reported, and how long ago that arrived. */
  load: Heartbeat | null
  last_heartbeat_ms_ago: number | null
  /**
   * A member on record whose capability is not read here (capability null): a sharded mesh reads a far
   * member's capability when it hears the member, not every member's (registry/far-capabilities.ts).
   */
  member?: true
}

export interface KnownPeer extends PeerEntry {
  /** The warrant this peer issued against it, if any. */
  warrant: WarrantView | null
  /** How this peer is connected to it now; null when not connected (or not known on this backend). */
  link: PeerLink | null
  revoked: boolean
  /**
   * The release and protocol versions it stated in its hello (UNSTATED: a release before 0.2.0); null
   * when this peer never met it (not connected since it started, or a Holochain backend).
   */
  release: ReleaseStatement | null
}

export interface LivePeers {
  /** Every peer with a capability entry or a heartbeat, this one included, as of now. */
  list(): Promise<KnownPeer[]>
  /** The warrants this peer issued (also about agents no longer in the list). */
  warrants(): WarrantView[]
  /**
   * `page` (what a person asks to see) with the capabilities of its members not read here filled in:
   * on a sharded mesh one read each from holders (then kept), so a page costs its own size, not N.
   */
  filled?(page: readonly KnownPeer[]): Promise<KnownPeer[]>
}
