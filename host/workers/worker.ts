/**
 * The seam between the scheduler and the code that runs one kind of task. One module per task kind
 * (`echo`, `sha256`, `infer.generate`, `infer.embed`, ...) exports a Worker; the scheduler looks workers
 * up by kind, checks the task's input with `input` before running and the answer with `output` after.
 */
import type { z } from 'zod'
import type { WorkerEvent } from '../interface/run-event.ts'
import type { SlotYield } from '../interface/slot-yield.ts'

export interface WorkerContext {
  /** Aborted when the task is cancelled, its lease is lost, or the host stops. */
  signal: AbortSignal
  /** What it produces while it runs (a model's load, reasoning, text): relayed to the requester. */
  onEvent(event: WorkerEvent): void
  /**
   * The requester takes the output whole, none of its text as it comes: a worker may leave out its
   * reasoning and text events and produce the output whole (a model's engine asked for it whole).
   */
  whole?: boolean
  /** The run may be parked for a higher band's request and resumed (priority preemption). */
  yielding?: SlotYield
}

/** What a worker returns: its output and the metrics that go into the signed Result. */
export interface WorkerOutcome<O> {
  output: O
  /** Extra metrics, e.g. { tokens: 128, model_file_hash: '...' }. */
  metrics?: Record<string, number | string>
}

/** Where an input would run on this host: on which model, already loaded or not; or why it cannot. */
export type Placement = { model: string; loaded: boolean } | { cannot: string }

export interface Worker<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly kind: string
  readonly input: I
  readonly output: O
  /**
   * The kind runs on a model: a task naming none still needs a peer that has some (its requester
   * says "no node has any model" when none has).
   */
  readonly needsModel?: boolean
  /**
   * Where this host would run a request for `model` (a model it has, that fits its free memory); unset:
   * anywhere. By the model the request names, not its input: a claimant never sees a task's input.
   */
  place?(model: string | undefined): Promise<Placement>
  run(input: z.output<I>, ctx: WorkerContext): Promise<WorkerOutcome<z.input<O>>>
}
