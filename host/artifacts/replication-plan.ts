/**
 * Which under-replicated artifacts this peer should fetch and pin, decided by every peer alone from
 * the same facts: a holder counts while it is not offline (past the network's timeout); each artifact
 * short of its replication ranks the peers that do not hold it by a rendezvous hash of (CID, agent),
 * and a peer takes it only when it ranks among the first `missing`. So peers do not all fetch the same
 * artifact. One that stays short past a grace period (its chosen peers had no room, or failed) is
 * overdue: then any peer with room takes it.
 *
 * Peers that decide from different views (one has not seen a holder's heartbeat yet, or a slow fetch
 * turned overdue) can overshoot; `planTrim` then lets the surplus replicas go, again by rank.
 */
import { rendezvousOrder } from '../interface/rendezvous.ts'

export interface PlanArtifact {
  cid: string
  /** The agent that registered it: always a keeper. */
  author?: string
  size: number
  replication: number
  /** Agents with a live PinCommitment. */
  holders: readonly string[]
}

export interface ReplicationFacts {
  self: string
  /** Agents not offline, this one included. */
  alive: ReadonlySet<string>
  artifacts: readonly PlanArtifact[]
  /** Bytes this peer may still pin (its quota left); Infinity without a quota. */
  room: number
  /** CIDs short of their replication for longer than the grace period. */
  overdue: ReadonlySet<string>
}

/** The CIDs to fetch and pin here, most urgent (fewest live holders) first. */
export function planReplication(facts: ReplicationFacts): string[] {
  const short: { a: PlanArtifact; live: number; missing: number }[] = []
  for (const a of facts.artifacts) {
    if (a.holders.includes(facts.self)) continue
    const live = new Set(a.holders.filter((h) => facts.alive.has(h))).size
    if (live < a.replication) short.push({ a, live, missing: a.replication - live })
  }
  const picks: string[] = []
  let room = facts.room
  // Fewest live holders first, so the room left goes to what is closest to being lost.
  for (const { a, missing } of short.sort((x, y) => x.live - y.live)) {
    const candidates = [...facts.alive].filter((agent) => !a.holders.includes(agent))
    const rank = rendezvousOrder(a.cid, candidates).indexOf(facts.self)
    const chosen = rank >= 0 && (rank < missing || facts.overdue.has(a.cid))
    if (!chosen || a.size > room) continue
    room -= a.size
    picks.push(a.cid)
  }
  return picks
}

/**
 * The CIDs this peer should release: ones it took only to replicate (`replicas`) that have more live
 * holders than their replication, where this peer ranks below the keepers. Keepers are the author,
 * then live holders in rendezvous order, so every peer with the same view keeps the same ones and a
 * surplus never drops an artifact below its replication.
 */
export function planTrim(
  facts: Omit<ReplicationFacts, 'room' | 'overdue'> & {
    replicas: ReadonlySet<string>
  },
): string[] {
  const trims: string[] = []
  for (const a of facts.artifacts) {
    if (!facts.replicas.has(a.cid) || !a.holders.includes(facts.self)) continue
    const live = [...new Set(a.holders.filter((h) => facts.alive.has(h)))]
    if (live.length <= a.replication) continue
    const author = a.author !== undefined && live.includes(a.author) ? [a.author] : []
    const others = rendezvousOrder(
      a.cid,
      live.filter((h) => h !== a.author),
    )
    const keepers = [...author, ...others].slice(0, a.replication)
    if (!keepers.includes(facts.self)) trims.push(a.cid)
  }
  return trims
}

/**
 * What this peer lets go when it keeps `excess` bytes more than its quota allows (the quota was
 * lowered): first what others keep most copies of, so the fewest artifacts fall short, the largest
 * first among equals, until the excess is freed. The keepers then restore the counts elsewhere.
 */
export function planRelease(facts: {
  self: string
  alive: ReadonlySet<string>
  artifacts: readonly PlanArtifact[]
  excess: number
}): string[] {
  if (facts.excess <= 0) return []
  const mine = facts.artifacts
    .filter((a) => a.holders.includes(facts.self))
    .map((a) => ({
      a,
      others: new Set(a.holders.filter((h) => h !== facts.self && facts.alive.has(h))).size,
    }))
    .sort((x, y) => y.others - x.others || y.a.size - x.a.size || (x.a.cid < y.a.cid ? -1 : 1))
  const releases: string[] = []
  let freed = 0
  for (const { a } of mine) {
    if (freed >= facts.excess) break
    releases.push(a.cid)
    freed += a.size
  }
  return releases
}
