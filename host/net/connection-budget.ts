/**
 * How many connections a peer holds, whatever the mesh's size. libp2p's connection manager closes the
 * least valued past `max`; peer exchange and discovery dial only while the peer has fewer than its
 * neighbour target of verified peers, half the cap, so the other half is room for the peers that dial
 * it, the directory's closest peers and runners dialled for a request. A team's mesh (up to ~30 peers)
 * stays below the target, so every peer there still connects to every other. Pure.
 */

/** The network file's `libp2p.max_connections` when it names none. */
export const DEFAULT_MAX_CONNECTIONS = 64

export interface ConnectionBudget {
  /** Connections libp2p keeps at most (it prunes the least valued past this). */
  max: number
  /** Verified peers this peer dials for itself, and keeps alive. */
  neighbours: number
}

export function connectionBudget(maxConnections = DEFAULT_MAX_CONNECTIONS): ConnectionBudget {
  const max = Math.max(2, Math.floor(maxConnections))
  return { max, neighbours: Math.max(1, Math.floor(max / 2)) }
}

/** Whether a peer with `verified` peers dials more (peer exchange, mDNS reports). */
export function wantsNeighbours(verified: number, budget: ConnectionBudget): boolean {
  return verified < budget.neighbours
}
