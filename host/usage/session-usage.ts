/**
 * Usage by agent session (issue 58, point 4): this peer's own requests that a coding agent's session
 * asked (their rows carry it, usage-totals.ts), summed over their hours, one line per session and API
 * key, the most recently active first. What `/api/usage?by=session`, `ripple usage --by session` and
 * the dashboard show. Pure.
 */
import { z } from 'zod'
import type { UsageRow } from './usage-totals.ts'

const count = z.number().int().min(0)

export const SessionUsageSchema = z.object({
  /** The agent and its session id (`claude-code:<id>`, `codex:<id>`, `opencode:<id>`). */
  session: z.string(),
  /** The API key that asked (null: the API token). */
  key: z.string().nullable(),
  /** The models that answered it. */
  models: z.array(z.string()),
  requests: count,
  failed: count,
  tokens_in: count,
  tokens_out: count,
  reasoning_tokens: count,
  /** The first and the last hour it asked in, ISO 8601. */
  first_hour: z.string(),
  last_hour: z.string(),
})
export type SessionUsage = z.infer<typeof SessionUsageSchema>

export function sessionTotals(rows: readonly UsageRow[]): SessionUsage[] {
  const sums = new Map<string, SessionUsage>()
  for (const r of rows) {
    if (r.session === undefined) continue
    const id = `${r.session}\n${r.key ?? ''}`
    let sum = sums.get(id)
    if (sum === undefined) {
      sum = {
        session: r.session,
        key: r.key,
        models: [],
        requests: 0,
        failed: 0,
        tokens_in: 0,
        tokens_out: 0,
        reasoning_tokens: 0,
        first_hour: r.hour,
        last_hour: r.hour,
      }
      sums.set(id, sum)
    }
    if (!sum.models.includes(r.model)) sum.models.push(r.model)
    for (const k of ['requests', 'failed', 'tokens_in', 'tokens_out', 'reasoning_tokens'] as const)
      sum[k] += r[k]
    if (r.hour < sum.first_hour) sum.first_hour = r.hour
    if (r.hour > sum.last_hour) sum.last_hour = r.hour
  }
  return [...sums.values()]
    .map((s) => ({ ...s, models: s.models.sort() }))
    .sort((a, b) => b.last_hour.localeCompare(a.last_hour) || a.session.localeCompare(b.session))
}
