/**
 * The seam between the scheduler and the code that runs one kind of task. One module per task kind
 * (`echo`, `sha256`, `infer.generate`, `infer.embed`, ...) exports a Worker; the scheduler looks workers
 * up by kind, checks the task's input with `input` before running and the answer with `output` after.
 */
import type { z } from 'zod'

/** Progress a worker reports while it runs (e.g. streamed tokens); relayed to the requester. */
export interface WorkerProgress {
  /** e.g. 'token', 'load', 'percent'. */
  type: string
  data: unknown
}

export interface WorkerContext {
  /** Aborted when the task is cancelled, its lease is lost, or the host stops. */
  signal: AbortSignal
  onProgress(progress: WorkerProgress): void
}

/** What a worker returns: its output and the metrics that go into the signed Result. */
export interface WorkerOutcome<O> {
  output: O
  /** Extra metrics, e.g. { tokens: 128, model_file_hash: '...' }. */
  metrics?: Record<string, number | string>
}

export interface Worker<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly kind: string
  readonly input: I
  readonly output: O
  run(input: z.output<I>, ctx: WorkerContext): Promise<WorkerOutcome<z.input<O>>>
}
