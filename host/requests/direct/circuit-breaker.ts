/**
 * A runner that failed is passed over for a while, then tried again. Per runner, as this requester saw
 * it: closed (routed as usual) until a failure or a timeout opens it for a cool-down; once the
 * cool-down is over it is half-open, and one request (the probe) may go to it: its success closes it,
 * its failure opens it again for twice as long, up to a cap. A runner that only says it is busy, or
 * refuses a caller's mistake, has not failed. Pure: a state and an event in, the next state out.
 */

export const FIRST_COOL_DOWN_MS = 5_000
export const MAX_COOL_DOWN_MS = 5 * 60_000

export type BreakerState =
  | { state: 'closed' }
  /** Passed over until `until` (this peer's clock); `cool` is how long it was opened for. */
  | { state: 'open'; until: number; cool: number }
  /** Its cool-down is over: one probe may go; `probing` while that one runs. */
  | { state: 'half-open'; cool: number; probing: boolean }

export type BreakerEvent =
  /** A request was sent to it (a probe, when half-open). */
  | { type: 'sent' }
  | { type: 'succeeded' }
  /** It failed, dropped, or did not accept in time. */
  | { type: 'failed' }

export const CLOSED: BreakerState = { state: 'closed' }

/** The state as of `now`: an open breaker whose cool-down is over is half-open. */
export function breakerAt(s: BreakerState, now: number): BreakerState {
  return s.state === 'open' && now >= s.until ? { state: 'half-open', cool: s.cool, probing: false } : s
}

/** Whether a request may go to it now: closed, or half-open with no probe running. */
export function passable(s: BreakerState, now: number): boolean {
  const at = breakerAt(s, now)
  return at.state === 'closed' || (at.state === 'half-open' && !at.probing)
}

export function nextBreaker(s: BreakerState, event: BreakerEvent, now: number): BreakerState {
  const at = breakerAt(s, now)
  switch (event.type) {
    case 'sent':
      return at.state === 'half-open' ? { ...at, probing: true } : at
    case 'succeeded':
      return CLOSED
    case 'failed': {
      // A failure while closed opens it for the first cool-down; a failed probe doubles the last one.
      // A failure of a request sent before it opened leaves the open cool-down as it is.
      if (at.state === 'open') return at
      const cool = at.state === 'closed' ? FIRST_COOL_DOWN_MS : Math.min(at.cool * 2, MAX_COOL_DOWN_MS)
      return { state: 'open', until: now + cool, cool }
    }
  }
}

/** The breakers of every runner this requester sent requests to; a runner never seen is closed. */
export class CircuitBreakers {
  readonly #of = new Map<string, BreakerState>()

  state(agent: string, now = Date.now()): BreakerState {
    return breakerAt(this.#of.get(agent) ?? CLOSED, now)
  }

  passable(agent: string, now = Date.now()): boolean {
    return passable(this.#of.get(agent) ?? CLOSED, now)
  }

  on(agent: string, event: BreakerEvent, now = Date.now()): void {
    const next = nextBreaker(this.#of.get(agent) ?? CLOSED, event, now)
    if (next.state === 'closed') this.#of.delete(agent)
    else this.#of.set(agent, next)
  }
}
