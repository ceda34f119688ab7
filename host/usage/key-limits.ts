/**
 * Limits per API key (issue 47, point 2): requests per minute, tokens per minute and tokens per day,
 * each over a sliding window. A request is admitted while its key is under every limit (its own
 * tokens are known only once answered, and counted then); a refusal names the limit and how long
 * until the window has room again (`retry-after`). Pure: time is an argument; kept in memory, the
 * day's tokens given back after a restart from the usage ledger's hourly rows (`restore`).
 */

export interface KeyLimits {
  /** Requests per minute. */
  rpm?: number
  /** Tokens (in + out) per minute. */
  tpm?: number
  /** Tokens (in + out) per day (a sliding 24 hours). */
  tokens_per_day?: number
}

export type LimitName = keyof KeyLimits

export type Admission = { ok: true } | { ok: false; limit: LimitName; retryAfterS: number; message: string }

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS
const DAY_MS = 24 * HOUR_MS

interface KeyUse {
  /** Admission times within the last minute. */
  requests: number[]
  /** Tokens answered within the last minute, with when. */
  recent: { at: number; tokens: number }[]
  /** Tokens answered per minute (its start, ms) within the last day. */
  minutes: Map<number, number>
}

export class KeyLimiter {
  readonly #use = new Map<string, KeyUse>()

  /** Admits a request of `key` now (counting it) or says which limit refuses it and for how long. */
  admit(key: string, limits: KeyLimits, now: number): Admission {
    const use = this.#prune(key, now)
    const refusal =
      over('rpm', limits.rpm, use.requests.length, () => use.requests[0]! + MINUTE_MS - now) ??
      over('tpm', limits.tpm, sum(use.recent), () => freedAt(use.recent, limits.tpm!, MINUTE_MS) - now) ??
      over('tokens_per_day', limits.tokens_per_day, sumDay(use), () => dayFreedAt(use, limits) - now)
    if (refusal) return refusal
    use.requests.push(now)
    return { ok: true }
  }

  /** Counts an answer's tokens against `key`. */
  count(key: string, tokens: number, now: number): void {
    if (tokens <= 0) return
    const use = this.#prune(key, now)
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
      use = { requests: [], recent: [], minutes: new Map() }
      this.#use.set(key, use)
    }
    while (use.requests.length > 0 && use.requests[0]! <= now - MINUTE_MS) use.requests.shift()
    while (use.recent.length > 0 && use.recent[0]!.at <= now - MINUTE_MS) use.recent.shift()
    for (const minute of use.minutes.keys())
      if (minute + MINUTE_MS <= now - DAY_MS) use.minutes.delete(minute)
    return use
  }
}

function over(
  limit: LimitName,
  max: number | undefined,
  used: number,
  waitMs: () => number,
): Admission | null {
  if (max === undefined || used < max) return null
  const retryAfterS = Math.max(1, Math.ceil(waitMs() / 1000))
  const per =
    limit === 'rpm' ? 'requests per minute' : limit === 'tpm' ? 'tokens per minute' : 'tokens per day'
  return {
    ok: false,
    limit,
    retryAfterS,
    message: `API key over its limit of ${max} ${per} (${used} used); try again in ${retryAfterS} s`,
  }
}

const sum = (items: readonly { tokens: number }[]) => items.reduce((n, i) => n + i.tokens, 0)
const sumDay = (use: KeyUse) => [...use.minutes.values()].reduce((n, t) => n + t, 0)

/** When enough of the oldest entries leave a `windowMs` window for the rest to be under `max`. */
function freedAt(entries: readonly { at: number; tokens: number }[], max: number, windowMs: number): number {
  let left = sum(entries)
  for (const e of entries) {
    left -= e.tokens
    if (left < max) return e.at + windowMs
  }
  return entries.at(-1)!.at + windowMs
}

function dayFreedAt(use: KeyUse, limits: KeyLimits): number {
  const entries = [...use.minutes]
    .sort(([a], [b]) => a - b)
    .map(([at, tokens]) => ({ at: at + MINUTE_MS, tokens }))
  return freedAt(entries, limits.tokens_per_day!, DAY_MS)
}

/** The limits as `ripple keys ls` shows them (`-` for none). */
export function limitsText(limits: KeyLimits | undefined): string {
  const parts = [
    limits?.rpm === undefined ? null : `${limits.rpm} rpm`,
    limits?.tpm === undefined ? null : `${limits.tpm} tpm`,
    limits?.tokens_per_day === undefined ? null : `${limits.tokens_per_day}/day`,
  ].filter((p) => p !== null)
  return parts.length === 0 ? '-' : parts.join(', ')
}
