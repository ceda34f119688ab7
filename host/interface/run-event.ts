/**
 * A run's events, declared once: what its worker produces (a model's load, reasoning, text and tool
 * calls, then the output) and what its requester adds (the request named, why nobody took it yet,
 * who took it). The same objects go from the worker through the direct protocol's frames (`token`,
 * `reasoning` and `done` are its frames of release 0.1.0, unchanged) to the caller's one `onEvent`, to
 * `/api/mesh/run`'s events and to each API's renderer, which handles them by `RunEventCases`: a new
 * kind of output is one member here and one case per renderer, and the type checker names every
 * renderer that lacks it.
 * The round's task signals keep their older `{ type, data }` form (task-signals.ts maps it).
 */
import { z } from 'zod'
import type { Progress } from './progress.ts'

/** Every long operation's progress on the wire: the Progress the operation reported, as it is. */
export const ProgressSchema = z.object({
  stage: z.enum(['load', 'download', 'import', 'fetch', 'write']),
  done: z.number().nonnegative(),
  total: z.number().nonnegative().nullable(),
  unit: z.enum(['bytes', 'percent', 'items']),
}) satisfies z.ZodType<Progress>

/** The request has a name: the task's action hash, or the direct request's hash (its record's key). */
export const SubmittedEventSchema = z.object({ type: z.literal('submitted'), task: z.string() })
/** Nobody has claimed the task yet, and why (the round only). */
export const WaitingEventSchema = z.object({ type: z.literal('waiting'), reason: z.string() })
/** A peer took it: the first assignee in the round; straight, the runner whose answer began. */
export const AssignedEventSchema = z.object({ type: z.literal('assigned'), peer: z.string() })
/** The runner loads the model first (every 5%). */
export const LoadEventSchema = z.object({
  type: z.literal('load'),
  model: z.string(),
  progress: ProgressSchema,
})
/** A thinking model's reasoning as it comes, before its answer's text. */
export const ReasoningEventSchema = z.object({ type: z.literal('reasoning'), text: z.string() })
/** The answer's text as it comes. */
export const TokenEventSchema = z.object({ type: z.literal('token'), text: z.string() })
/**
 * A piece of the answer's `index`th tool call as it comes: its name (whole, on every piece: a
 * renderer opens the call on the first piece of its index) and the next part of its arguments' JSON.
 * The output at the end holds every call whole; a renderer sends from it only the calls not streamed.
 */
export const ToolCallEventSchema = z.object({
  type: z.literal('tool-call'),
  index: z.number().int().min(0).max(1023),
  name: z.string().min(1).max(256),
  arguments: z.string(),
})
/** The run's end: the worker's output (the caller's answer carries it with who ran it). */
export const DoneEventSchema = z.object({ type: z.literal('done'), output: z.unknown() })

export const RunEventSchema = z.discriminatedUnion('type', [
  SubmittedEventSchema,
  WaitingEventSchema,
  AssignedEventSchema,
  LoadEventSchema,
  ReasoningEventSchema,
  TokenEventSchema,
  ToolCallEventSchema,
  DoneEventSchema,
])
export type RunEvent = z.infer<typeof RunEventSchema>
export type RunEventType = RunEvent['type']
export type ToolCallEvent = z.infer<typeof ToolCallEventSchema>

/** What a model produces as it runs: its reasoning, then its answer's text and calls. */
export type OutputEvent = Extract<RunEvent, { type: 'reasoning' | 'token' | 'tool-call' }>
/** What a worker reports while it runs (its output is what it returns). */
export type WorkerEvent = Extract<RunEvent, { type: 'load' | OutputEvent['type'] }>
/** What a run's caller hears while it runs: its end is the answer the run resolves to. */
export type RunProgress = Exclude<RunEvent, { type: 'done' }>

/** One case per kind of event: a renderer written as this handles every kind, or does not compile. */
export type RunEventCases<R> = { [T in RunEventType]: (event: Extract<RunEvent, { type: T }>) => R }

/** The event handed to its case. */
export function renderEach<R>(cases: RunEventCases<R>): (event: RunEvent) => R {
  return (event) => (cases[event.type] as (event: RunEvent) => R)(event)
}
