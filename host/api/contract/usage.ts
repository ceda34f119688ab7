/**
 * `GET /api/usage`: what this peer served each member and was served by each runner, totalled from
 * the leaves it signed, by member, API key, model and hour (issue 47).
 */
import { z } from 'zod'
import { UsageRowSchema } from '../../usage/usage-totals.ts'

export const UsageQuerySchema = z.object({
  /** Unix milliseconds: the hours from the one holding it on (default: all kept, up to 31 days). */
  since: z.coerce.number().int().min(0).optional(),
})
export type UsageQuery = z.infer<typeof UsageQuerySchema>

export { UsageRowSchema }
export type UsageRowView = z.infer<typeof UsageRowSchema>

export const UsageViewSchema = z.object({
  /** This peer's agent key. */
  agent: z.string(),
  rows: z.array(UsageRowSchema),
})
export type UsageView = z.infer<typeof UsageViewSchema>
