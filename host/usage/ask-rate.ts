/**
 * How often each peer may ask this one for its usage (`usage/1.0.0`, issue 55, point 9): a bucket of
 * asks per peer, refilled over a minute, so a member asking in a loop is refused (saying when to ask
 * again) rather than costing this peer a read per ask. The peers remembered are bounded: the one
 * longest quiet is forgotten first (it starts again with a full bucket, no more than a newcomer). Pure:
 * time is an argument.
 */

/** Asks a peer may make at once, and per minute after (a paged answer is a few asks). */
export const ASKS_PER_MINUTE = 30
const MINUTE_MS = 60_000
/** Peers remembered at most. */
const MAX_PEERS = 4096

export type AskVerdict = { ok: true } | { ok: false; retryAfterS: number }

export class AskRate {
  readonly #buckets = new Map<string, { left: number; at: number }>()

  constructor(readonly perMinute: number = ASKS_PER_MINUTE) {}

  /** Takes one ask of `peer`'s now, or says how long until it has one. */
  take(peer: string, now: number): AskVerdict {
    const was = this.#buckets.get(peer)
    const refill = was ? ((now - was.at) * this.perMinute) / MINUTE_MS : this.perMinute
    const left = Math.min(this.perMinute, (was?.left ?? 0) + Math.max(0, refill))
    this.#buckets.delete(peer)
    this.#buckets.set(peer, { left: left >= 1 ? left - 1 : left, at: now })
    if (this.#buckets.size > MAX_PEERS) this.#buckets.delete(this.#buckets.keys().next().value!)
    if (left >= 1) return { ok: true }
    return {
      ok: false,
      retryAfterS: Math.max(1, Math.ceil(((1 - left) * MINUTE_MS) / this.perMinute / 1000)),
    }
  }
}
