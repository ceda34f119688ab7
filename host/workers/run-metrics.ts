/**
 * The metrics a runner signs of a worker's run (in a task's Result or a direct answer's leaf): when the
 * run started and finished, and the token counts and rate the worker reported, when it reported them
 * as numbers.
 */
import type { TaskResult } from '../../zomes-bindings/index.ts'
import { nowMicros } from '../runtime/clock.ts'

export function runMetrics(
  startedAt: number,
  worker: Record<string, number | string>,
  finishedAt = Math.max(startedAt, nowMicros()),
): TaskResult['metrics'] {
  return {
    started_at: startedAt,
    finished_at: finishedAt,
    duration_ms: Math.round((finishedAt - startedAt) / 1000),
    tokens_in: count(worker.tokens_in),
    tokens_out: count(worker.tokens_out ?? worker.tokens),
    tokens_per_second: typeof worker.tokens_per_second === 'number' ? worker.tokens_per_second : null,
  }
}

function count(value: number | string | undefined): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null
}
