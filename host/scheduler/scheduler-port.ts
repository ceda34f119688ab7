/**
 * What the rest of the node asks of the scheduler: tasks submitted, cancelled, viewed, listed and
 * watched (the API, the request runner, the metrics).
 */
import type { RecordRef, Task } from '../../zomes-bindings/index.ts'
import type { Startable } from '../interface/startable.ts'
import type { TaskSummary } from './task-read-model.ts'
import type { TaskView } from './task-views.ts'
import type { TaskEvent } from './task-watch.ts'

/** A Task as its requester orders it: all but what the scheduler says of the input. */
export type TaskOrder = Omit<Task, 'input_hash' | 'input_bytes' | 'input_cid'>

export interface SchedulerPort extends Startable {
  /** Submits a task for `input`: the input is kept here, private, and the Task carries its hash. */
  submit(order: TaskOrder, input: unknown): Promise<RecordRef>
  /** NotTaskAuthorError unless this peer submitted it. */
  cancel(hash: string, reason: string): Promise<RecordRef>
  view(hash: string): Promise<TaskView>
  /** Open tasks and the newest finished ones, newest first. */
  list(): Promise<TaskSummary[]>
  /** The tasks known here, from what this host holds alone (what /metrics counts: it asks no peer). */
  known(): TaskSummary[]
  /** Calls `listener` on every status change and progress of a task, starting with its current status. */
  watch(hash: string, listener: (event: TaskEvent) => void): () => void
}
