/**
 * When this peer sends its next heartbeat. Every peer hears every other's, so at the network's interval
 * a mesh of n peers makes each peer take n-1 heartbeats per interval, and idle peers would spend more
 * the more peers join. A heartbeat goes out at once (no sooner than the network's interval after the
 * last) when something routing reads has changed (free memory: by more than a small share); otherwise
 * the idle pace slows as the mesh grows, so each peer hears about `HEARD_PER_INTERVAL` idle heartbeats
 * per interval whatever the mesh's size, and the mesh as a whole sends that many. The others online are
 * those heard, or, past the heartbeats a peer holds, the members on record (./held-heartbeats.ts).
 * The heartbeat says its pace (`every_ms`), and the peers hearing it wait that much longer before they
 * call it stale or offline (./peer-status.ts).
 * Where a backend has topics per model (design 4e), routing news goes on the topics of the models a
 * runner serves, to their runners and users; the mesh-wide channel then carries it only while the mesh
 * is small enough that telling everyone stays within a bounded rate (a team's mesh routes as before),
 * and the idle beat otherwise.
 */
import type { Heartbeat } from '../../zomes-bindings/index.ts'

/** Idle heartbeats a peer hears per network interval, at most, however many peers the mesh has. */
export const HEARD_PER_INTERVAL = 4

/**
 * The idle pace: the network's interval up to `HEARD_PER_INTERVAL` other peers, slower beyond, in
 * whole intervals (a heartbeat is looked at once per interval).
 */
export function idlePaceMs(intervalMs: number, othersOnline: number): number {
  return intervalMs * Math.max(1, Math.ceil(othersOnline / HEARD_PER_INTERVAL))
}

/**
 * Free memory that moves by less than this share of itself is no news: without a limit it is the
 * machine's free memory, which moves a little at every sample, and telling the mesh each move would
 * send every heartbeat at the network's interval (what the idle pace is there to avoid).
 */
export const FREE_BYTES_NEWS = 1 / 16

function freeBytesMoved(last: number | undefined, next: number | undefined): boolean {
  if (last === undefined || next === undefined) return last !== next
  return Math.abs(next - last) > Math.max(last, next) * FREE_BYTES_NEWS
}

/** What routing and placement read of a heartbeat, less free memory: a change there is worth telling the mesh at once. */
function routingFacts(h: Heartbeat): string {
  const { queue_depth, slots_free, model_evictable_bytes, splits, split_held } = h
  return JSON.stringify([queue_depth, slots_free, model_evictable_bytes, splits, split_held])
}

function routingNews(last: Heartbeat, next: Heartbeat): boolean {
  return (
    routingFacts(next) !== routingFacts(last) || freeBytesMoved(last.model_free_bytes, next.model_free_bytes)
  )
}

/** The addresses a heartbeat tells, in any order (member-addresses.ts orders them, not by news). */
const addrsOf = (h: Heartbeat) => JSON.stringify([...(h.addrs ?? [])].sort())

export interface PaceState {
  /** The heartbeat sent last (with the pace it stated), and when (ms); null before the first. */
  last: { heartbeat: Heartbeat; at: number } | null
}

/**
 * Below this many other peers online, routing news still goes to every peer at once: each peer hears at
 * most this many peers' news an interval, a constant.
 */
export const NEWS_TO_ALL_BELOW = 32

/** Whether routing news goes mesh-wide: always without topics, else while the mesh is small. */
export function newsToAll(hasTopics: boolean, othersOnline: number): boolean {
  return !hasTopics || othersOnline < NEWS_TO_ALL_BELOW
}

/**
 * Whether to send `next` now, `now` ms, given the network's interval and the idle pace; `news` false:
 * routing news does not hasten it (only the pace does). New addresses always do, an interval on: a
 * peer that must dial this one and whose store lost it dials what the last beat told, and at the
 * idle pace of a big mesh (42 minutes at 1,000 peers and 10 s) a relay reservation made after the
 * start, or a new interface, would go untold that long. Addresses change rarely: a beat now and then.
 */
export function beatDue(
  state: PaceState,
  next: Heartbeat,
  now: number,
  intervalMs: number,
  paceMs: number,
  news = true,
) {
  if (state.last === null) return true
  const since = now - state.last.at
  // A pace slower than the last heartbeat said is told first, by a beat at the pace it said: the
  // peers hearing it call it stale by the pace it stated.
  const stated = state.last.heartbeat.every_ms ?? intervalMs
  if (since >= Math.min(paceMs, stated)) return true
  if (since >= intervalMs && addrsOf(state.last.heartbeat) !== addrsOf(next)) return true
  // A new capability too: a peer holding a far member's reads it again when the beat names another.
  if (since >= intervalMs && state.last.heartbeat.cap !== next.cap) return true
  return news && since >= intervalMs && routingNews(state.last.heartbeat, next)
}
