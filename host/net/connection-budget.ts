/**
 * How many connections a peer holds, whatever the mesh's size. libp2p's connection manager closes the
 * least valued past `max` and refuses inbound connections at it; peer exchange and discovery dial only
 * while the peer has fewer than its neighbour target of verified peers it dialled itself: gossipsub's
 * Dlo, the fewest mesh peers it keeps for a topic, so gossip reaches everyone and no more is paid for.
 * Only its own dials count, so a peer many dial (a mesh's inviter) still has neighbours of its own. In a
 * large mesh a peer is also dialled by about as many as it dials, so it holds about twice the target
 * (~8) at any size from about ten peers up; the rest of the cap is for what must still get in: a
 * requester dialling a runner on demand, a directory lookup's peers. A team's mesh of up to about eight
 * peers is (nearly) fully connected; a larger one reaches every peer through gossip and dials a runner
 * when a request needs it (member-dial.ts). Pure.
 */

/** Verified peers a peer dials for itself (gossipsub's Dlo; gossip-options.ts), whatever the cap. */
export const NEIGHBOUR_TARGET = 4

/** The network file's `libp2p.max_connections` when it names none. */
export const DEFAULT_MAX_CONNECTIONS = 64

export interface ConnectionBudget {
  /** Connections libp2p keeps at most (it prunes the least valued past this). */
  max: number
  /** Verified peers this peer dials for itself, and keeps alive. */
  neighbours: number
  /**
   * Connections held past which the trimmer closes idle ones (three quarters of the cap): the last
   * quarter stays free for inbound connections, which libp2p refuses at the cap.
   */
  trimAbove: number
}

export function connectionBudget(maxConnections = DEFAULT_MAX_CONNECTIONS): ConnectionBudget {
  const max = Math.max(2, Math.floor(maxConnections))
  return {
    max,
    neighbours: Math.max(1, Math.min(NEIGHBOUR_TARGET, Math.floor(max / 4))),
    trimAbove: Math.max(1, Math.floor((max * 3) / 4)),
  }
}

/** Whether a peer with `verified` neighbours it dialled itself dials more (peer exchange, mDNS reports). */
export function wantsNeighbours(verified: number, budget: ConnectionBudget): boolean {
  return verified < budget.neighbours
}

/**
 * Whether this peer (`self`) decides on its connections to `peer`, opened in `directions`: when it
 * dialled every one; and of a pair dialled both ways, when its id sorts first. Two peers that dial each
 * other at once (each pushing an op to the other before it saw the other's connection) get one
 * connection each way, and with each end leaving inbound ones to the dialler, neither closed the pair:
 * at 16 daemons half the pairs held two, kept for good (20 connections a peer at rest). With one end
 * deciding, the pair goes as a single connection would, and a peer either end keeps is dialled again.
 */
export function decidesOn(
  directions: readonly ('inbound' | 'outbound')[],
  self: string,
  peer: string,
): boolean {
  if (!directions.includes('outbound')) return false
  return directions.every((d) => d === 'outbound') || self < peer
}

/** A connected peer as the trimmer sees it. */
export interface HeldPeer {
  id: string
  /** Its connections (a pair that dialled each other at once holds two). */
  connections: number
  /** This peer decides on its connections to it (`decidesOn`): it dialled them, not the peer. */
  outbound: boolean
  /** Tagged in the peer store: a kept neighbour, an explicit peer, a relay or a peer holding a reservation. */
  kept: boolean
  /** A stream of real work is open on it (a request, a directory query), not only gossip and pings. */
  busy: boolean
  /**
   * An explicit peer (an invite's inviter, a bootstrap peer) let go once this peer had its own
   * neighbours: closed once unused for `graceMs`, wherever the line is.
   */
  released: boolean
  /**
   * A request went to it or came from it over this connection (request-response, a 'request' use in
   * peer-activity.ts). One dialled only for a directory query, kad-dht's routing checks, a record pushed
   * or read ('brief') or upkeep is done with once that ends: a look in a big mesh walks a dozen or more
   * such peers, and an op goes to a few dozen holders, which held a minute each would pass the cap.
   */
  asked: boolean
  /** When it was last of use: its newest connection opened, or a request with it ended (ms, as `now`). */
  activeAt: number
}

export interface TrimTimes {
  /** A peer used this recently stays (a runner dialled for a request not yet sent). */
  graceMs: number
  /** A peer unused this long is closed, wherever the line is (a runner dialled for a request). */
  idleMs: number
}

/**
 * The peers to disconnect. Only connections this peer dialled for itself and did not keep (a runner
 * dialled for a request, a directory query's peer, an explicit peer released), never a busy one: those
 * released or never asked and unused for `graceMs`, or unused for `idleMs`, always, so requesters do
 * not pile up on runners (the runner's inbound is refused at its cap) nor joiners on their inviter, nor
 * lookers on the peers their walks passed through; and past
 * `trimAbove`, those unused for `graceMs`, most recently used first, as libp2p's own pruner orders them.
 * Inbound connections are the dialler's to close: closing another peer's kept neighbour would only
 * have it redial. (libp2p's pruner closes nothing that carries a gossipsub stream, and every
 * connection between members does, so past the cap it would never close one.)
 */
export function peersToTrim(
  held: readonly HeldPeer[],
  budget: ConnectionBudget,
  now: number,
  times: TrimTimes,
): string[] {
  const done = (p: HeldPeer) => p.released || !p.asked || now - p.activeAt >= times.idleMs
  const closable = held
    .filter((p) => p.outbound && !p.kept && !p.busy && now - p.activeAt >= times.graceMs)
    .sort((a, b) => b.activeAt - a.activeAt)
  const idle = closable.filter(done)
  let excess = held.reduce((sum, p) => sum + p.connections, 0) - budget.trimAbove
  excess -= idle.reduce((sum, p) => sum + p.connections, 0)
  const trimmed = idle.map((p) => p.id)
  for (const peer of closable) {
    if (excess <= 0) break
    if (done(peer)) continue
    trimmed.push(peer.id)
    excess -= peer.connections
  }
  return trimmed
}
