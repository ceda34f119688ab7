/**
 * Usage from the record (issue 47, point 1): what this peer served to each requester (its own
 * `AnswerLeaf`s, as runner) and what it was served by each runner (its own `ServedLeaf`s, as
 * requester, with the runner's leaf its proof carries), totalled by direction, member, API key, model
 * and hour, and for this peer's own requests by the coding agent's session that asked (issue 58). Token
 * counts and times come from the signed leaves; the API key, the session and the reasoning tokens are
 * this peer's own notes of a request (the leaf carries none of them). Pure.
 */
import { z } from 'zod'
import { type AnswerLeaf, isCoverLeaf, type ServedLeaf } from '../../zomes-bindings/index.ts'

/** `served`: this peer ran it for `member`; `used`: this peer asked for it and `member` ran it. */
export type UsageDirection = 'served' | 'used'

/** What this peer noted of a request it answered on /v1 (none of it is in the signed leaf). */
export interface UsageNote {
  /** The API key that asked (null: the API token). */
  key: string | null
  reasoning: number
  /** The agent session that asked (agent-session.ts's sessionName), if it named one. */
  session?: string
}

export interface UsageEvent {
  direction: UsageDirection
  member: string
  key: string | null
  /** This peer's own request's agent session, when it named one. */
  session?: string
  model: string
  /** Microseconds since the epoch: when the runner finished it. */
  at: number
  tokensIn: number
  tokensOut: number
  reasoning: number
  /** Seconds a slot of the runner's engine was busy with it (finished_at - started_at). */
  busyS: number
  /** The runner signed it as answered (and, as requester, it signed what was served). */
  ok: boolean
}

const count = z.number().int().min(0)

/** One row of usage: what was served in one direction, to or by one member, key and model, in one hour. */
export const UsageRowSchema = z.object({
  /** `served`: this peer ran it for `member`; `used`: this peer asked and `member` ran it. */
  direction: z.enum(['served', 'used']),
  member: z.string(),
  /** The API key that asked, as this peer noted it (null: the API token, or asked elsewhere). */
  key: z.string().nullable(),
  /**
   * The coding agent's session that asked (`claude-code:<id>`, `codex:<id>`, `opencode:<id>`), from its
   * headers; only on this peer's own requests (`used`), absent when none was named.
   */
  session: z.string().optional(),
  model: z.string(),
  /** The hour it falls in, ISO 8601 (`2026-11-25T04:00:00.000Z`). */
  hour: z.string(),
  requests: count,
  /** Signed as failed (runner), or not accepted (requester). */
  failed: count,
  tokens_in: count,
  tokens_out: count,
  /** As noted where it was answered (the leaves do not carry them). */
  reasoning_tokens: count,
  /** Seconds a runner's slot was busy with these requests, from the leaves' times. */
  busy_s: z.number().min(0),
})
export type UsageRow = z.infer<typeof UsageRowSchema>

const HOUR_MS = 3_600_000

/** The events of a runner's window: each leaf is a request it served to its requester. */
export function answeredEvents(
  leaves: readonly AnswerLeaf[],
  note: (request: string) => UsageNote | undefined,
) {
  return leaves.map(
    (l): UsageEvent => ({
      direction: 'served',
      member: l.requester,
      key: null,
      model: l.model,
      at: l.finished_at,
      tokensIn: l.tokens_in,
      tokensOut: l.tokens_out,
      reasoning: note(l.request)?.reasoning ?? 0,
      busyS: (l.finished_at - l.started_at) / 1e6,
      ok: l.status === 'ok',
    }),
  )
}

/**
 * The events of a requester's window: tokens and times as the runner's proven leaf says (a leaf
 * without a proof counts as a request with no tokens, at the window's close).
 */
export function servedEvents(
  leaves: readonly ServedLeaf[],
  closedAt: number,
  note: (request: string) => UsageNote | undefined,
) {
  // A cover leaf (a slot with no request, signed all the same) is no one's usage.
  return leaves
    .filter((l) => !isCoverLeaf(l))
    .map((l): UsageEvent => {
      const signed = l.proof?.leaf
      const noted = note(l.request)
      return {
        direction: 'used',
        member: l.runner,
        key: noted?.key ?? null,
        ...(noted?.session !== undefined && { session: noted.session }),
        model: l.model,
        at: signed?.finished_at ?? closedAt,
        tokensIn: signed?.tokens_in ?? 0,
        tokensOut: signed?.tokens_out ?? 0,
        reasoning: noted?.reasoning ?? 0,
        busyS: signed ? (signed.finished_at - signed.started_at) / 1e6 : 0,
        ok: l.accepted,
      }
    })
}

export function hourOf(micros: number): string {
  return new Date(Math.floor(micros / 1000 / HOUR_MS) * HOUR_MS).toISOString()
}

/** A row's key in a map of rows: its direction, member, key, model, hour and session. */
export function rowId(
  r: Pick<UsageRow, 'direction' | 'member' | 'key' | 'model' | 'hour'> & { session?: string | undefined },
): string {
  return [r.direction, r.member, r.key ?? '', r.model, r.hour, r.session ?? ''].join('\n')
}

/** Adds events into rows (keyed by direction, member, key, model and hour), in place. */
export function addEvents(rows: Map<string, UsageRow>, events: readonly UsageEvent[]): void {
  for (const e of events) {
    const hour = hourOf(e.at)
    const id = rowId({ ...e, hour })
    let row = rows.get(id)
    if (row === undefined) {
      row = emptyRow(e, hour)
      rows.set(id, row)
    }
    addEvent(row, e)
  }
}

/** The row of an event's direction, member, key, session and model in `hour`, with nothing counted yet. */
export function emptyRow(
  e: Pick<UsageEvent, 'direction' | 'member' | 'key' | 'session' | 'model'>,
  hour: string,
): UsageRow {
  return {
    direction: e.direction,
    member: e.member,
    key: e.key,
    ...(e.session !== undefined && { session: e.session }),
    model: e.model,
    hour,
    requests: 0,
    failed: 0,
    tokens_in: 0,
    tokens_out: 0,
    reasoning_tokens: 0,
    busy_s: 0,
  }
}

/** Counts one event into its row, in place. */
export function addEvent(row: UsageRow, e: UsageEvent): void {
  row.requests += 1
  row.failed += e.ok ? 0 : 1
  row.tokens_in += e.tokensIn
  row.tokens_out += e.tokensOut
  row.reasoning_tokens += e.reasoning
  row.busy_s += e.busyS
}

/** A row as it is read out: a copy, its busy seconds to the millisecond. */
export const rowOut = (r: UsageRow): UsageRow => ({ ...r, busy_s: Math.round(r.busy_s * 1000) / 1000 })

/** The order rows are read in: by hour, then direction, member, model and key. */
export function compareRows(a: UsageRow, b: UsageRow): number {
  return (
    a.hour.localeCompare(b.hour) ||
    a.direction.localeCompare(b.direction) ||
    a.member.localeCompare(b.member) ||
    a.model.localeCompare(b.model) ||
    (a.key ?? '').localeCompare(b.key ?? '') ||
    (a.session ?? '').localeCompare(b.session ?? '')
  )
}

/** The rows from `sinceMs` on (by their hour), oldest hour first. */
export function rowsSince(rows: Iterable<UsageRow>, sinceMs = 0): UsageRow[] {
  const from = new Date(Math.floor(sinceMs / HOUR_MS) * HOUR_MS).toISOString()
  return [...rows]
    .filter((r) => r.hour >= from)
    .map(rowOut)
    .sort(compareRows)
}
