/**
 * Library timers createRippleNode's `speedup` does not reach, put on the simulation's clock. Left at their
 * real periods, they fire 1/speedup times as often a simulated second: at 1,000 peers on the 40/N clock
 * 25 times as often, so the directory's messages a peer would grow with N only because the clock is
 * slower, and each peer's share of the one process with them. kad-dht's routing-table refresh (a lookup
 * per bucket every 5 minutes) and its ping of a full bucket's old contacts (those not heard for 10
 * minutes), and gossipsub's score decay (every second) take no option for it (kad-dht 16, gossipsub 17).
 */
import type { RippleNode } from '../../host/net/create-node.ts'

/** kad-dht's TABLE_REFRESH_INTERVAL and LAST_PING_THRESHOLD, gossipsub's decayInterval default. */
const TABLE_REFRESH_MS = 300_000
const LAST_PING_MS = 600_000
const SCORE_DECAY_MS = 1_000

interface Timed {
  directory: {
    routingTableRefresh?: { refreshInterval: number }
    routingTable?: { kb?: { lastPingThreshold: number } }
  }
  pubsub: { score?: { params: { decayInterval: number } } }
}

/** Before the node starts (each timer is set from these at start). */
export function slowLibraryTimers(node: RippleNode, speedup: number): void {
  const { directory, pubsub } = node.libp2p.services as unknown as Timed
  const refresh = directory.routingTableRefresh
  const bucket = directory.routingTable?.kb
  const score = pubsub.score
  // A library that renamed them would otherwise run the simulation on their real periods, silently.
  if (refresh === undefined || bucket === undefined || score === undefined)
    throw new Error("mesh-sim: kad-dht's or gossipsub's timers are no longer where slow-timers.ts sets them")
  refresh.refreshInterval = TABLE_REFRESH_MS / speedup
  bucket.lastPingThreshold = LAST_PING_MS / speedup
  score.params.decayInterval = SCORE_DECAY_MS / speedup
}
