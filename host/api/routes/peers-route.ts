import type { FastifyInstance } from 'fastify'
import type { WarrantView } from '../../conductor/embedded/replication/index.ts'
import type { PeerEntry } from '../../registry/index.ts'

/** A peer as the API shows it: the registry's view plus the warrant this host holds against it. */
export interface ApiPeer extends PeerEntry {
  warrant: WarrantView | null
}

export interface PeersReply {
  peers: ApiPeer[]
  /** Every warrant this host holds, including against agents that never advertised a capability. */
  warrants: WarrantView[]
}

export function registerPeersRoute(app: FastifyInstance, peers: () => Promise<PeersReply>): void {
  app.get('/api/peers', peers)
}
