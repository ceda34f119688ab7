/**
 * Who runs a request routed straight to a runner, from what this peer already knows (capabilities
 * and heartbeats): first the peers with the model loaded and a slot free, most free slots first; then
 * those with it loaded but busy; then those with the file and room to load it (the memory-fit
 * estimate against the memory they advertise free, counting what unloading their idle models would
 * free); then the rest that have the file. Within a tier, most free slots first, then fewest of this
 * peer's requests running there (all it knows of a peer whose heartbeat predates its model's load and
 * says no slots), then this peer (no trip), then the least loaded. A peer's free slots are those
 * its last heartbeat reported, less the requests this peer sent it since, plus those of its requests
 * that ended since (counting every request in flight against a heartbeat that already counts some
 * of them sent conversations away from a home with room).
 * A conversation's home (the runner holding its prompt cache, conversation-affinity.ts) goes first
 * while it has the model loaded and may have a slot free: by that count, or as one of this peer's
 * requests there ended since its heartbeat (which may count a slot busy a moment after its request
 * ended), or as it reports no slots: a home full after all refuses at once, one trip against
 * re-evaluating the whole conversation elsewhere. Full, it is let go but stays first among the busy,
 * so a request every runner is too busy for waits for a slot there; gone or without the model, it is
 * let go. Pure: the peers in, the order out.
 */
import { advertisesVision } from '../../inference/vision.ts'
import type { PeerEntry } from '../../interface/live-peers.ts'

export interface RouteCandidate {
  agent: string
  self: boolean
  /** 0 loaded with a slot free, 1 loaded and busy, 2 has the file and room (evicting idle models maybe), 3 has the file. */
  tier: 0 | 1 | 2 | 3
  /** Slots free as far as this peer knows (null when the peer reports none). */
  free: number | null
}

/** A request this peer sent a runner: when it started and, once over, when it ended (its clock). */
export interface SentRequest {
  at: number
  ended: number | null
}

type PlanPeer = Pick<PeerEntry, 'agent' | 'self' | 'status' | 'capability' | 'load'> & {
  revoked?: boolean
  last_heartbeat_ms_ago?: number | null
}

export interface RoutePlanInput {
  peers: readonly PlanPeer[]
  model: string
  /** The requests this peer sent each runner that its last heartbeat may not account for yet. */
  outstanding: ReadonlyMap<string, readonly SentRequest[]>
  /** This peer's clock now (default: Date.now()). */
  now?: number
  /** Bytes the model needs to load (the memory-fit estimate); null when unknown. */
  needBytes: number | null
  /** The runner that served this conversation before (its prompt cache), if any. */
  home?: string | null
  /** The request carries images: only peers that serve the model with its projector (vision.ts). */
  vision?: boolean
}

export function planRoute(input: RoutePlanInput): RouteCandidate[] {
  const now = input.now ?? Date.now()
  const candidates: (RouteCandidate & { cpu: number; mayHaveSlot: boolean; running: number })[] = []
  for (const peer of input.peers) {
    if (peer.status === 'offline' || peer.revoked === true || peer.capability === null) continue
    const info = peer.capability.inference.models.find((m) => m.name === input.model)
    if (info === undefined) continue
    if (input.vision && !advertisesVision(peer.capability, info.file_hash)) continue
    const sent = input.outstanding.get(peer.agent) ?? []
    const since = heardAt(peer, now)
    const reported = peer.load?.slots_free
    const free = reported === undefined ? null : Math.max(0, reported - takenSince(sent, since))
    const mayHaveSlot = free === null || free > 0 || sent.some((r) => r.ended !== null && r.ended > since)
    let tier: RouteCandidate['tier']
    if (info.loaded) tier = free === null ? (sent.some((r) => r.ended === null) ? 1 : 0) : free > 0 ? 0 : 1
    else {
      const freeBytes = peer.load?.model_free_bytes
      const room = freeBytes === undefined ? undefined : freeBytes + (peer.load?.model_evictable_bytes ?? 0)
      tier = input.needBytes !== null && room !== undefined && room >= input.needBytes ? 2 : 3
    }
    const cpu = peer.load?.cpu_pct ?? 100
    const running = sent.filter((r) => r.ended === null).length
    candidates.push({ agent: peer.agent, self: peer.self, tier, free, cpu, mayHaveSlot, running })
  }
  candidates.sort(
    (a, b) =>
      a.tier - b.tier ||
      (b.free ?? 0) - (a.free ?? 0) ||
      // Slots unknown (a heartbeat from before the model loaded) or equal: fewer of ours running first.
      a.running - b.running ||
      Number(b.self) - Number(a.self) ||
      a.cpu - b.cpu ||
      a.agent.localeCompare(b.agent),
  )
  const at = candidates.findIndex((c) => c.agent === input.home && c.tier <= 1)
  const home = candidates[at]
  if (home !== undefined) {
    candidates.splice(at, 1)
    const firstBusy = candidates.findIndex((c) => c.tier >= 1)
    candidates.splice(home.mayHaveSlot ? 0 : firstBusy < 0 ? candidates.length : firstBusy, 0, home)
  }
  return candidates.map(({ cpu: _cpu, mayHaveSlot: _mayHaveSlot, running: _running, ...c }) => c)
}

/**
 * When `peer`'s last heartbeat counted its slots, on this peer's clock: when it arrived (a remote
 * clock may be skewed), or when this peer sampled its own; -Infinity when none is known (every
 * request of this peer's still running there counts then).
 */
export function heardAt(peer: PlanPeer, now: number): number {
  if (peer.self) return typeof peer.load?.timestamp === 'number' ? peer.load.timestamp / 1000 : -Infinity
  return peer.last_heartbeat_ms_ago == null ? -Infinity : now - peer.last_heartbeat_ms_ago
}

/** Slots this peer's requests took since `since`: each started since takes one, each ended since gives one back. */
function takenSince(sent: readonly SentRequest[], since: number): number {
  let taken = 0
  for (const r of sent) taken += Number(r.at > since) - Number(r.ended !== null && r.ended > since)
  return taken
}
