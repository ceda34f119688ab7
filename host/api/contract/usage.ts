/**
 * `GET /api/usage`: what this peer served each member and was served by each runner, totalled from
 * the leaves it signed, by member, API key, model and hour (issue 47).
 */
import { z } from 'zod'

export const UsageQuerySchema = z.object({
  /** Unix milliseconds: the hours from the one holding it on (default: all since the daemon started). */
  since: z.coerce.number().int().min(0).optional(),
})
export type UsageQuery = z.infer<typeof UsageQuerySchema>

const count = z.number().int().min(0)

export const UsageRowSchema = z.object({
  /** `served`: this peer ran it for `member`; `used`: this peer asked and `member` ran it. */
  direction: z.enum(['served', 'used']),
  member: z.string(),
  /** The API key that asked, as this peer noted it (null: the API token, or asked elsewhere). */
  key: z.string().nullable(),
  model: z.string(),
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
export type UsageRowView = z.infer<typeof UsageRowSchema>

export const UsageViewSchema = z.object({
  /** This peer's agent key. */
  agent: z.string(),
  rows: z.array(UsageRowSchema),
})
export type UsageView = z.infer<typeof UsageViewSchema>
