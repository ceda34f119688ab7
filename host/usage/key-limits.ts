/**
 * Limits per API key (issue 47, point 2; issue 55, point 8): requests per minute, tokens per minute
 * and tokens per day, each over a sliding window, and requests at once. A request is admitted while
 * its key is under every limit counting what was admitted and not yet answered: admission reserves
 * the request's most tokens (its `max_tokens` times its runs) and one request at once, and the
 * request's end settles the reservation with what it really took (a client that went away included),
 * so neither a flood of concurrent requests nor a disconnect passes a limit. A refusal names the limit
 * and how long until there is room again (`retry-after`). Pure: time is an argument; kept in memory,
 * the day's tokens given back after a restart from the usage ledger's hourly rows (`restore`).
 */

export interface KeyLimits {
  /** Requests per minute. */
  rpm?: number
  /** Tokens (in + out) per minute. */
  tpm?: number
  /** Tokens (in + out) per day (a sliding 24 hours). */
  tokens_per_day?: number
  /** Requests admitted and not yet answered (DEFAULT_CONCURRENT when unset). */
  concurrent?: number
  /** Turns (requests) one agent session may take (session-limits.ts). */
  session_turns?: number
  /** Tokens (in + out) one agent session may take (session-limits.ts). */
  session_tokens?: number
}

/** The limits over time windows (the per-session caps are session-limits.ts's). */
export type LimitName = Exclude<keyof KeyLimits, 'session_turns' | 'session_tokens'>

/** Requests at once of a key that sets no `concurrent`: a few agents' parallel calls, not a flood. */
export const DEFAULT_CONCURRENT = 8

export type Admission =
  | { ok: true; ticket: number }
  | { ok: false; limit: LimitName; retryAfterS: number; message: string }

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS
const DAY_MS = 24 * HOUR_MS
/** How soon to try again when what holds the room is requests not yet answered (their end is not known). */
const HELD_RETRY_MS = 1000

interface KeyUse {
  /** Admission times within the last minute. */
  requests: number[]
  /** Tokens answered within the last minute, with when. */
  recent: { at: number; tokens: number }[]
  /** Tokens answered per minute (its start, ms) within the last day. */
  minutes: Map<number, number>
  /** Reservations of requests admitted and not yet settled: their tokens, by ticket. */
  held: Map<number, number>
  heldTokens: number
}

export class KeyLimiter {
  readonly #use = new Map<string, KeyUse>()
  #tickets = 0

  /**
   * Admits a request of `key` now, reserving `reserve` tokens and one request at once (settle it with
   * the ticket), or says which limit refuses it and for how long.
   */
  admit(key: string, limits: KeyLimits, now: number, reserve = 0): Admission {
    const use = this.#prune(key, now)
    const held = use.heldTokens
    const refusal =
      over('concurrent', limits.concurrent ?? DEFAULT_CONCURRENT, use.held.size, 0, () => HELD_RETRY_MS) ??
      over('rpm', limits.rpm, use.requests.length, 0, () => use.requests[0]! + MINUTE_MS - now) ??
      over('tpm', limits.tpm, sum(use.recent) + held, held, () =>
        freedAt(use.recent, limits.tpm! - held, MINUTE_MS, now),
      ) ??
      over('tokens_per_day', limits.tokens_per_day, sumDay(use) + held, held, () =>
        freedAt(dayEntries(use), limits.tokens_per_day! - held, DAY_MS, now),
      )
    if (refusal) return refusal
    use.requests.push(now)
    const ticket = ++this.#tickets
    const tokens = Math.max(0, reserve)
    use.held.set(ticket, tokens)
    use.heldTokens += tokens
    return { ok: true, ticket }
  }

  /** Ends an admitted request: its reservation freed, the `tokens` it really took counted (once). */
  settle(key: string, ticket: number, tokens: number, now: number): void {
    const use = this.#prune(key, now)
    const reserved = use.held.get(ticket)
    if (reserved === undefined) return
    use.held.delete(ticket)
    use.heldTokens -= reserved
    if (tokens <= 0) return
    use.recent.push({ at: now, tokens })
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS
    use.minutes.set(minute, (use.minutes.get(minute) ?? 0) + tokens)
  }

  /**
   * Counts tokens `key` was answered in the hour from `hourMs`, before this count began (a restart):
   * against the day only, as if at the hour's last minute (or now, in the current hour), so they
   * leave the day no sooner than they really do. The minute's limits start afresh.
   */
  restore(key: string, hourMs: number, tokens: number, now: number): void {
    if (tokens <= 0) return
    const use = this.#prune(key, now)
    const minute = Math.floor(Math.min(hourMs + HOUR_MS - MINUTE_MS, now) / MINUTE_MS) * MINUTE_MS
    if (minute + MINUTE_MS <= now - DAY_MS) return
    use.minutes.set(minute, (use.minutes.get(minute) ?? 0) + tokens)
  }

  #prune(key: string, now: number): KeyUse {
    let use = this.#use.get(key)
    if (use === undefined) {
      use = { requests: [], recent: [], minutes: new Map(), held: new Map(), heldTokens: 0 }
      this.#use.set(key, use)
    }
    while (use.requests.length > 0 && use.requests[0]! <= now - MINUTE_MS) use.requests.shift()
    while (use.recent.length > 0 && use.recent[0]!.at <= now - MINUTE_MS) use.recent.shift()
    for (const minute of use.minutes.keys())
      if (minute + MINUTE_MS <= now - DAY_MS) use.minutes.delete(minute)
    return use
  }
}

const PER: Record<LimitName, string> = {
  rpm: 'requests per minute',
  tpm: 'tokens per minute',
  tokens_per_day: 'tokens per day',
  concurrent: 'requests at once',
}

function over(
  limit: LimitName,
  max: number | undefined,
  used: number,
  held: number,
  waitMs: () => number,
): Admission | null {
  if (max === undefined || used < max) return null
  const retryAfterS = Math.max(1, Math.ceil(waitMs() / 1000))
  const heldText = held > 0 ? `, ${held} of them held by requests not yet answered` : ''
  return {
    ok: false,
    limit,
    retryAfterS,
    message: `API key over its limit of ${max} ${PER[limit]} (${used} used${heldText}); try again in ${retryAfterS} s`,
  }
}

const sum = (items: readonly { tokens: number }[]) => items.reduce((n, i) => n + i.tokens, 0)
const sumDay = (use: KeyUse) => [...use.minutes.values()].reduce((n, t) => n + t, 0)

/**
 * How long until enough of the oldest entries leave a `windowMs` window for the rest to be under
 * `room`; when no room is left beside what requests hold, until one of them may have ended.
 */
function freedAt(
  entries: readonly { at: number; tokens: number }[],
  room: number,
  windowMs: number,
  now: number,
): number {
  if (room <= 0 || entries.length === 0) return HELD_RETRY_MS
  let left = sum(entries)
  for (const e of entries) {
    left -= e.tokens
    if (left < room) return e.at + windowMs - now
  }
  return entries.at(-1)!.at + windowMs - now
}

/** The day's per-minute counts as entries leaving the day at their minute's end, oldest first. */
function dayEntries(use: KeyUse) {
  return [...use.minutes].sort(([a], [b]) => a - b).map(([at, tokens]) => ({ at: at + MINUTE_MS, tokens }))
}

/** The limits as `ripple keys ls` shows them (`-` for none). */
export function limitsText(limits: KeyLimits | undefined): string {
  const parts = [
    limits?.rpm === undefined ? null : `${limits.rpm} rpm`,
    limits?.tpm === undefined ? null : `${limits.tpm} tpm`,
    limits?.tokens_per_day === undefined ? null : `${limits.tokens_per_day}/day`,
    limits?.concurrent === undefined ? null : `${limits.concurrent} at once`,
    limits?.session_turns === undefined ? null : `${limits.session_turns} turns/session`,
    limits?.session_tokens === undefined ? null : `${limits.session_tokens} tokens/session`,
  ].filter((p) => p !== null)
  return parts.length === 0 ? '-' : parts.join(', ')
}
