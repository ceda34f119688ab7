/**
 * This peer's usage rows, indexed (issue 55, point 9): by hour, and by member and hour, so a read
 * from a time on walks only the hours asked for (found by binary search) and one member's only its
 * own rows. What a member was served in the last hour or day (the policies' context at each admit)
 * is a few dozen rows, not a scan and sort of every row; what a peer answers a member over
 * `usage/1.0.0` is read a page at a time; hours leave from the oldest as they age out. Rows of this
 * peer's own requests are split by agent session as well (issue 58), at most MAX_SESSIONS_PER_HOUR
 * sessions an hour (the rest counted without one), so a swarm of short sessions cannot grow the index
 * past a bound; what other members are answered leaves the sessions out. Pure.
 */
import {
  addEvent,
  compareRows,
  emptyRow,
  hourOf,
  rowId,
  rowOut,
  type UsageEvent,
  type UsageRow,
} from './usage-totals.ts'

const HOUR_MS = 3_600_000
/** Distinct agent sessions counted in one hour's rows; later ones that hour count without a session. */
export const MAX_SESSIONS_PER_HOUR = 512

const hourStart = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS

/** The first index in sorted `list` whose value is at least `value`. */
export function lowerBound(list: readonly number[], value: number): number {
  let [lo, hi] = [0, list.length]
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (list[mid]! < value) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Rows grouped by hour (its start, ms), the hours kept in order. */
class HourBuckets {
  readonly hours: number[] = []
  readonly rows = new Map<number, UsageRow[]>()

  add(hour: number, row: UsageRow): void {
    let bucket = this.rows.get(hour)
    if (bucket === undefined) {
      bucket = []
      this.rows.set(hour, bucket)
      // Hours come in order but for a late window: an append, or a splice near the end.
      this.hours.splice(lowerBound(this.hours, hour), 0, hour)
    }
    bucket.push(row)
  }

  /** The hours from the one holding `fromMs` on, oldest first. */
  *from(fromMs: number): Generator<[number, UsageRow[]]> {
    for (let i = lowerBound(this.hours, hourStart(fromMs)); i < this.hours.length; i++)
      yield [this.hours[i]!, this.rows.get(this.hours[i]!)!]
  }

  /** Drops the hours before `hourMs`; answers their rows. */
  dropBefore(hourMs: number): UsageRow[] {
    const gone = this.hours.splice(0, lowerBound(this.hours, hourMs))
    return gone.flatMap((h) => {
      const rows = this.rows.get(h)!
      this.rows.delete(h)
      return rows
    })
  }
}

/** A page of one member's rows: whole hours, and the hour to ask from for the next (null: no more). */
export interface RowsPage {
  rows: UsageRow[]
  next: number | null
}

export class UsageIndex {
  readonly #rows = new Map<string, UsageRow>()
  readonly #byHour = new HourBuckets()
  readonly #byMember = new Map<string, HourBuckets>()
  /** Each hour's sessions (its start, ms): the bound on how many an hour's rows are split by. */
  readonly #sessions = new Map<number, Set<string>>()

  get size(): number {
    return this.#rows.size
  }

  /** Counts events into their rows. */
  add(events: readonly UsageEvent[]): void {
    for (const event of events) {
      const hour = hourOf(event.at)
      const e = this.#bounded(event, Date.parse(hour))
      const id = rowId({ ...e, hour })
      let row = this.#rows.get(id)
      if (row === undefined) {
        row = emptyRow(e, hour)
        this.#insert(id, row)
      }
      addEvent(row, e)
    }
  }

  /** Every row replaced by `rows`. */
  replace(rows: readonly UsageRow[]): void {
    this.#rows.clear()
    this.#byHour.dropBefore(Number.POSITIVE_INFINITY)
    this.#byMember.clear()
    this.#sessions.clear()
    for (const r of rows) this.#insert(rowId(r), { ...r })
  }

  /** The event, without its session when its hour counts as many sessions as it may already. */
  #bounded(e: UsageEvent, hour: number): UsageEvent {
    if (e.session === undefined) return e
    const seen = this.#sessions.get(hour)
    if (seen?.has(e.session) || (seen?.size ?? 0) < MAX_SESSIONS_PER_HOUR) return e
    const { session: _session, ...rest } = e
    return rest
  }

  /** The rows from the hour holding `sinceMs` on, oldest hour first. */
  rows(sinceMs = 0): UsageRow[] {
    const out: UsageRow[] = []
    for (const [, rows] of this.#byHour.from(sinceMs)) out.push(...rows.map(rowOut).sort(compareRows))
    return out
  }

  /** What this peer served `member` from the hour holding `sinceMs` on. */
  servedTo(member: string, sinceMs: number): { requests: number; tokens: number } {
    const used = { requests: 0, tokens: 0 }
    for (const [, rows] of this.#byMember.get(member)?.from(sinceMs) ?? [])
      for (const r of rows)
        if (r.direction === 'served') {
          used.requests += r.requests
          used.tokens += r.tokens_in + r.tokens_out
        }
    return used
  }

  /** What `member` served this peer from `sinceMs` on, signed and accepted (requests its runner's proof holds). */
  acceptedFrom(sinceMs: number): Map<string, number> {
    const counts = new Map<string, number>()
    for (const [, rows] of this.#byHour.from(sinceMs))
      for (const r of rows)
        if (r.direction === 'used' && r.requests > r.failed)
          counts.set(r.member, (counts.get(r.member) ?? 0) + r.requests - r.failed)
    return counts
  }

  /**
   * `member`'s rows from the hour holding `sinceMs` on without the API keys (rows of one hour,
   * direction and model summed over keys), whole hours up to `limit` rows (at least one hour).
   */
  about(member: string, sinceMs: number, limit: number): RowsPage {
    const rows: UsageRow[] = []
    for (const [hour, bucket] of this.#byMember.get(member)?.from(sinceMs) ?? []) {
      if (rows.length > 0 && rows.length + bucket.length > limit) return { rows, next: hour }
      rows.push(...withoutKeys(bucket))
    }
    return { rows, next: null }
  }

  /** Drops the rows of hours that ended before `ms`. */
  pruneBefore(ms: number): void {
    const hour = hourStart(ms)
    if ((this.#byHour.hours[0] ?? hour) >= hour) return
    for (const r of this.#byHour.dropBefore(hour)) this.#rows.delete(rowId(r))
    for (const h of this.#sessions.keys()) if (h < hour) this.#sessions.delete(h)
    for (const [member, buckets] of this.#byMember) {
      buckets.dropBefore(hour)
      if (buckets.hours.length === 0) this.#byMember.delete(member)
    }
  }

  #insert(id: string, row: UsageRow): void {
    const hour = Date.parse(row.hour)
    this.#rows.set(id, row)
    this.#byHour.add(hour, row)
    if (row.session !== undefined) {
      const seen = this.#sessions.get(hour) ?? new Set()
      this.#sessions.set(hour, seen.add(row.session))
    }
    let buckets = this.#byMember.get(row.member)
    if (buckets === undefined) {
      buckets = new HourBuckets()
      this.#byMember.set(row.member, buckets)
    }
    buckets.add(hour, row)
  }
}

/** Adds a row's counts into another's (rows of one group summed). */
export function addUsage(into: UsageRow, r: UsageRow): void {
  for (const k of ['requests', 'failed', 'tokens_in', 'tokens_out', 'reasoning_tokens', 'busy_s'] as const)
    into[k] += r[k]
}

/** One hour's rows of a member with the keys and sessions left out: rows that differ by them alone summed. */
function withoutKeys(rows: readonly UsageRow[]): UsageRow[] {
  const merged = new Map<string, UsageRow>()
  for (const { session: _session, ...r } of rows) {
    const id = rowId({ ...r, key: null })
    const into = merged.get(id)
    if (into === undefined) merged.set(id, { ...r, key: null })
    else addUsage(into, r)
  }
  return [...merged.values()].map(rowOut).sort(compareRows)
}
