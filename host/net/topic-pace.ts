/**
 * A model topic's rate budget: every runner on the topic publishes at most every
 * max(base, publishers / budget) seconds, so a subscriber hears about `budget` messages a second
 * however many runners serve the model (Ethereum's per-subnet topics, scale-anchors.md section 4.3).
 * Nobody counts the publishers: each peer reads them off the topic's rate (messages seen in a window
 * times the interval they all keep), which settles at `budget` a second. Pure: the topics service and the
 * simulation both pace with it.
 */

/** Messages a second a model topic carries at most, however many runners publish on it. */
export const TOPIC_BUDGET_PER_SEC = 4
/** The window publishers are counted over, in publish intervals. */
export const WINDOW_INTERVALS = 4
/** Longest interval: past it a runner's news would be staler than its directory advert. */
export const MAX_INTERVAL_MS = 300_000

export interface PaceInput {
  /** The interval with the topic to itself (the network's heartbeat). */
  baseMs: number
  /** Publishers on the topic, this peer included. */
  publishers: number
  budgetPerSec?: number
  maxMs?: number
}

/** How long a publisher waits between two messages on one topic. */
export function publishIntervalMs({
  baseMs,
  publishers,
  budgetPerSec = TOPIC_BUDGET_PER_SEC,
  maxMs = MAX_INTERVAL_MS,
}: PaceInput): number {
  const shared = (Math.max(1, publishers) / budgetPerSec) * 1000
  return Math.min(Math.max(baseMs, maxMs), Math.max(baseMs, shared))
}

/**
 * Publishers on a topic read off its traffic: `seen` messages (this peer's own included) over the
 * last `windowMs`, each publisher sending one every `intervalMs`. At least 1.
 */
export function publishersSeen(seen: number, windowMs: number, intervalMs: number): number {
  if (windowMs <= 0) return 1
  return Math.max(1, Math.round((seen * Math.min(intervalMs, windowMs)) / windowMs))
}

/**
 * A publisher sends its own message to every peer of the topic while they are at most this many (a
 * team's mesh: each hears it first hand, as before); past that to its D mesh peers only, the rest
 * hearing it from them. Either way a publish costs at most this many sends.
 */
export const FLOOD_PUBLISH_MAX_PEERS = 32

/** Whether a message published on a topic with `peers` subscribers goes to each of them. */
export const floodsTo = (peers: number) => peers <= FLOOD_PUBLISH_MAX_PEERS
