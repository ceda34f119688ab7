/**
 * How much `admit/1.0.0` a witness serves: a token bucket per asking peer and one for all of them, so
 * a flood from one peer, or from many fresh peer ids, is answered quickly with a refusal and never
 * reaches the judging, the genesis walk or the disk. A joiner asks each peer once a round (a second),
 * which the per-peer bucket always lets through. Pure over an injected monotonic clock.
 */

export interface BucketRate {
  /** Requests let through at once after a quiet spell. */
  burst: number
  /** Tokens regained per second. */
  perSecond: number
}

export interface AdmissionLimits {
  perPeer: BucketRate
  total: BucketRate
  /** Peers whose buckets are kept (the least recently seen dropped past it): bounds memory. */
  maxPeers: number
}

export const ADMISSION_LIMITS: AdmissionLimits = {
  perPeer: { burst: 5, perSecond: 1 },
  total: { burst: 40, perSecond: 20 },
  maxPeers: 1024,
}

interface Bucket {
  tokens: number
  atMs: number
}

/** Null when the request may go on; otherwise why not, with when to ask again. */
export type Limited = null | { why: string; retryAfterMs: number }

export class AdmissionLimiter {
  readonly #limits: AdmissionLimits
  readonly #nowMs: () => number
  readonly #peers = new Map<string, Bucket>()
  readonly #total: Bucket

  constructor(limits: AdmissionLimits = ADMISSION_LIMITS, nowMs: () => number = () => performance.now()) {
    this.#limits = limits
    this.#nowMs = nowMs
    this.#total = { tokens: limits.total.burst, atMs: nowMs() }
  }

  /** Takes a token from `peer`'s bucket and the total one, or says which is empty. */
  take(peer: string): Limited {
    const now = this.#nowMs()
    const own = this.#peers.get(peer) ?? { tokens: this.#limits.perPeer.burst, atMs: now }
    this.#peers.delete(peer)
    this.#peers.set(peer, own)
    if (this.#peers.size > this.#limits.maxPeers)
      this.#peers.delete(this.#peers.keys().next().value as string)
    refill(own, this.#limits.perPeer, now)
    refill(this.#total, this.#limits.total, now)
    if (own.tokens < 1) {
      return {
        why: 'too many admission requests from this peer',
        retryAfterMs: wait(own, this.#limits.perPeer),
      }
    }
    if (this.#total.tokens < 1) {
      return {
        why: 'too many admission requests at this member',
        retryAfterMs: wait(this.#total, this.#limits.total),
      }
    }
    own.tokens -= 1
    this.#total.tokens -= 1
    return null
  }
}

function refill(bucket: Bucket, rate: BucketRate, now: number): void {
  bucket.tokens = Math.min(rate.burst, bucket.tokens + ((now - bucket.atMs) / 1000) * rate.perSecond)
  bucket.atMs = now
}

const wait = (bucket: Bucket, rate: BucketRate) => Math.ceil(((1 - bucket.tokens) / rate.perSecond) * 1000)
