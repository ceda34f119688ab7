/**
 * Ephemeral signals about a running attempt (never chain entries): the assignee says it started and
 * relays its worker's progress (e.g. streamed tokens), so the requester can show `running` and
 * progress while a person waits. Only the current assignee's signals are believed. Read leniently, as
 * every gossip signal is: fields a newer release adds are ignored.
 */
import { z } from 'zod'
import { ActionHashB64Schema } from '../../zomes-bindings/index.ts'
import { LoadEventSchema, ToolCallEventSchema, type WorkerEvent } from '../interface/run-event.ts'

/**
 * A worker's event as a signal carries it, in the form release 0.1.0 reads (`{ type: 'token', data:
 * text }`, a load as `{ type: 'load', data: { model, progress } }`; a tool call's piece, which 0.1.0
 * ignores, as `{ type: 'tool-call', data: { index, name, arguments } }`), and as
 * `/api/tasks/:hash/events` shows it.
 */
const SignalProgressSchema = z.object({ type: z.string().min(1).max(64), data: z.unknown() })
export type SignalProgress = z.infer<typeof SignalProgressSchema>

export const TaskSignalSchema = z.object({
  type: z.literal('task'),
  task: ActionHashB64Schema,
  assignment: ActionHashB64Schema,
  event: z.enum(['started', 'progress']),
  progress: SignalProgressSchema.nullable(),
})
export type TaskSignal = z.infer<typeof TaskSignalSchema>

/** A worker's event in a signal's form. */
export function signalProgress(event: WorkerEvent): SignalProgress {
  if (event.type === 'load') return { type: 'load', data: { model: event.model, progress: event.progress } }
  if (event.type === 'tool-call') {
    const { type, ...data } = event
    return { type, data }
  }
  return { type: event.type, data: event.text }
}

/** A signal's progress as the worker's event it was; null for one this release does not know. */
export function workerEventOf({ type, data }: SignalProgress): WorkerEvent | null {
  if (type === 'token' || type === 'reasoning') return typeof data === 'string' ? { type, text: data } : null
  const schema = type === 'load' ? LoadEventSchema : type === 'tool-call' ? ToolCallEventSchema : null
  const event = schema?.safeParse({ ...(data as object), type })
  return event?.success ? event.data : null
}
