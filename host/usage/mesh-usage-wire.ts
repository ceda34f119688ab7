/**
 * `usage/1.0.0`: a member asks a peer what that peer signed about it (issue 47, point 1): the rows of
 * its usage where the asker is the member, as runner (the peer ran the asker's requests) and as
 * requester (the asker ran the peer's). The asker is the connection's own agent (served to members
 * only), so a peer answers about the one asking and never about a third party; the API keys, this
 * peer's private notes, are left out. Release 0.1.0 does not serve it. An answer holds whole hours
 * up to ANSWER_ROWS rows, oldest first, and says the hour to ask from for the rest (`next`; an asker
 * of 0.2.0 reads the first page only, an answer of 0.2.0 has no `next`: all its rows).
 */
import { z } from 'zod'
import { UsageRowSchema } from './usage-totals.ts'

export const USAGE_PROTOCOL = 'usage/1.0.0'

export const UsageAskSchema = z.strictObject({
  /** Unix milliseconds: the hours from the one holding it on. */
  since: z.number().int().min(0),
})
export type UsageAsk = z.infer<typeof UsageAskSchema>

/** 31 days of hours, a few models each: far beyond any honest answer. */
const MAX_ROWS = 50_000
/** Rows an answer holds at most (whole hours: one hour's rows of one member all go, past it if need be). */
export const ANSWER_ROWS = 2_000

export const UsageAnswerSchema = z.object({
  rows: z.array(UsageRowSchema).max(MAX_ROWS),
  /** Unix milliseconds: the hour to ask from for the rows after these; null or absent: no more. */
  next: z.number().int().min(0).nullish(),
})
export type UsageAnswer = z.infer<typeof UsageAnswerSchema>
