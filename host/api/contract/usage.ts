/**
 * `GET /api/usage`: what this peer served each member and was served by each runner, totalled from
 * the leaves it signed, by member, API key, model and hour (issue 47).
 */
import { z } from 'zod'
import { SessionUsageSchema } from '../../usage/session-usage.ts'
import { UsageRowSchema } from '../../usage/usage-totals.ts'

export const UsageQuerySchema = z.object({
  /** Unix milliseconds: the hours from the one holding it on (default: all kept, up to 31 days). */
  since: z.coerce.number().int().min(0).optional(),
  /** `1`: also ask each online peer what it signed about this member (usage/1.0.0). */
  mesh: z
    .enum(['0', '1', 'false', 'true'])
    .transform((v) => v === '1' || v === 'true')
    .optional(),
  /** `session`: also this peer's own requests summed by the coding agent's session that asked (`sessions`). */
  by: z.enum(['session']).optional(),
})
export type UsageQuery = z.infer<typeof UsageQuerySchema>

export { SessionUsageSchema, UsageRowSchema }
export type SessionUsageView = z.infer<typeof SessionUsageSchema>
export type UsageRowView = z.infer<typeof UsageRowSchema>

const count = z.number().int().min(0)
const TotalsSchema = z.object({
  requests: count,
  failed: count,
  tokens_in: count,
  tokens_out: count,
  reasoning_tokens: count,
})

/** What one peer signed about this member (host/usage/mesh-usage.ts). */
export const PeerUsageSchema = z.object({
  agent: z.string(),
  name: z.string().nullable(),
  self: z.boolean(),
  /** Its release, as its hello said (null: not met since this peer started). */
  release: z.string().nullable(),
  /** Why it gave no answer (unreachable, or a release that does not speak usage/1.0.0); null when it answered. */
  message: z.string().nullable(),
  /** What it signed running this member's requests ... */
  as_runner: TotalsSchema,
  /** ... and of this member running its requests. */
  as_requester: TotalsSchema,
})
export type PeerUsageView = z.infer<typeof PeerUsageSchema>

export const UsageViewSchema = z.object({
  /** This peer's agent key. */
  agent: z.string(),
  rows: z.array(UsageRowSchema),
  /** With `by=session`: each agent session's totals over the period, the most recently active first. */
  sessions: z.array(SessionUsageSchema).optional(),
  /** With `mesh=1`: each online peer's answer about this member, and their sum. */
  mesh: z
    .object({
      peers: z.array(PeerUsageSchema),
      sum: z.object({ as_runner: TotalsSchema, as_requester: TotalsSchema }),
    })
    .optional(),
})
export type UsageView = z.infer<typeof UsageViewSchema>
