/**
 * Which failed zome calls the holochain backend makes again, and after how long. Both failures below
 * mean nothing of the call was written, so asking again is safe:
 * - two writes at once on one cell: the conductor commits the first and drops the other's whole bundle
 *   (the embedded conductor queues them instead);
 * - a get or get_links that no peer answered: a peer that has just (re)started is unknown at its new
 *   address to the others until they next poll the bootstrap server, and until then they drop its
 *   requests unanswered (kitsune2 0.3). Asked again once they know it.
 */

/** Holochain's answer to a commit whose chain head another call moved first. */
const HEAD_MOVED = /source chain head has moved since the bundle began/
const HEAD_MOVED_ATTEMPTS = 8
/** holochain_p2p's answer to a request to another peer that timed out (`get_links response channel dropped...`). */
const UNANSWERED = /response channel dropped: likely response timeout/
/** With Holochain's request timeout (conductor-process.ts), about a minute in all. */
const UNANSWERED_ATTEMPTS = 4

/** Milliseconds to wait before attempt `attempt + 1` of a call that failed with `message`; null: give up. */
export function retryDelayOf(message: string, attempt: number, random = Math.random): number | null {
  if (HEAD_MOVED.test(message) && attempt < HEAD_MOVED_ATTEMPTS) return 5 + random() * 20 * attempt
  // The wait was the timeout itself.
  if (UNANSWERED.test(message) && attempt < UNANSWERED_ATTEMPTS) return 0
  return null
}
