/**
 * Ephemeral signals about a running attempt (never chain entries): the assignee says it started and
 * relays its worker's progress (e.g. streamed tokens), so the requester can show `running` and
 * progress while a person waits. Only the current assignee's signals are believed. Read leniently, as
 * every gossip signal is: fields a newer release adds are ignored.
 */
import { z } from 'zod'
import { ActionHashB64Schema } from '../../zomes-bindings/index.ts'

export const TaskSignalSchema = z.object({
  type: z.literal('task'),
  task: ActionHashB64Schema,
  assignment: ActionHashB64Schema,
  event: z.enum(['started', 'progress']),
  progress: z.object({ type: z.string().min(1).max(64), data: z.unknown() }).nullable(),
})
export type TaskSignal = z.infer<typeof TaskSignalSchema>
