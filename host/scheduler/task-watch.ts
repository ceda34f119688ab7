/**
 * Who waits on which task (`ripple task submit --wait`, the API's event stream), and what the
 * assignees say about running attempts: each watcher hears every status change and new attempt once,
 * and the progress of the current assignees (one per slot of a fan-out). Also the status as this host
 * sees it: the records say `assigned`; a current assignee's `started` signal (or running it here)
 * makes it `running`.
 */
import {
  type Assignment,
  currentAssignments,
  type EntryRecord,
  type TaskState,
  type TaskStatus,
} from '../../zomes-bindings/index.ts'
import type { Signal } from '../interface/conductor-port.ts'
import { type SignalProgress, TaskSignalSchema } from './task-signals.ts'
import type { Unclaimed } from './task-views.ts'

/** What someone watching a task hears. */
export type TaskEvent =
  | { type: 'status'; status: TaskStatus; attempt: number | null; assignee: string | null }
  | { type: 'progress'; assignee: string; progress: SignalProgress }
  /**
   * The task waits with no claim: why, and `unclaimable` once no peer will claim it (none is capable,
   * or every capable one had its chance): then waiting longer does not help.
   */
  | { type: 'waiting'; reason: string; unclaimable: boolean }

const TERMINAL: readonly TaskStatus[] = ['done', 'failed', 'expired', 'cancelled']
export const isTerminal = (status: TaskStatus) => TERMINAL.includes(status)

/** Started attempts remembered beyond this are forgotten oldest first. */
const STARTED_LIMIT = 4096

interface Watch {
  listeners: Set<(event: TaskEvent) => void>
  /** The status and attempt last told, so each change is told once. */
  lastKey: string | null
  /** The waiting reason last told. */
  lastWaiting: string | null
  /** The current attempts as last told: assignment hash -> assignee. */
  current: Map<string, string>
}

export class TaskWatches {
  readonly #watches = new Map<string, Watch>()
  /** Assignment hash -> the assignee that said it started it. */
  readonly #started = new Map<string, string>()
  /** Reads a task's state and tells its watchers (a task that started or is watched anew). */
  readonly #refresh: (task: string) => void

  /** Hears who sent progress for which attempt (./attempt-pulse.ts: it keeps the lease alive). */
  readonly #onProgress: ((assignment: string, from: string) => void) | undefined

  constructor(refresh: (task: string) => void, onProgress?: (assignment: string, from: string) => void) {
    this.#refresh = refresh
    this.#onProgress = onProgress
  }

  has(task: string): boolean {
    return this.#watches.has(task)
  }

  /** Tasks watched now. */
  get size(): number {
    return this.#watches.size
  }

  /** Calls `listener` on every status change and progress of a task, starting with its current status. */
  watch(task: string, listener: (event: TaskEvent) => void): () => void {
    let watch = this.#watches.get(task)
    if (watch === undefined) {
      watch = { listeners: new Set(), lastKey: null, lastWaiting: null, current: new Map() }
      this.#watches.set(task, watch)
    }
    watch.listeners.add(listener)
    // The newcomer hears the current status at once, even if nothing changes.
    watch.lastKey = null
    watch.lastWaiting = null
    this.#refresh(task)
    return () => {
      watch.listeners.delete(listener)
      if (watch.listeners.size === 0) this.#watches.delete(task)
    }
  }

  /**
   * The status as this host sees it: `assigned` becomes `running` once a current assignee said it
   * started, or when `runningHere` is a current assignment.
   */
  statusOf(state: TaskState, runningHere: string | undefined): TaskStatus {
    if (state.status !== 'assigned') return state.status
    const started = currentAssignments(state.assignments).some(
      (a) => runningHere === a.action_hash || this.#started.get(a.action_hash) === a.entry.assignee,
    )
    return started ? 'running' : 'assigned'
  }

  /**
   * Tells the task's watchers its status, if it changed or an attempt was assigned since they last
   * heard, and why it waits unclaimed, if that changed.
   */
  tell(state: TaskState, status: TaskStatus, waiting: Unclaimed | null = null): void {
    const watch = this.#watches.get(state.task.action_hash)
    if (watch === undefined) return
    this.#tellStatus(watch, state, status)
    const waitingKey = waiting && `${waiting.unclaimable}:${waiting.reason}`
    if (waiting === null || watch.lastWaiting === waitingKey) return
    watch.lastWaiting = waitingKey
    for (const listener of watch.listeners) listener({ type: 'waiting', ...waiting })
  }

  #tellStatus(watch: Watch, state: TaskState, status: TaskStatus): void {
    const newest = state.assignments.reduce<EntryRecord<Assignment> | undefined>(
      (a, b) => (a === undefined || b.timestamp >= a.timestamp ? b : a),
      undefined,
    )
    const key = `${status}:${newest?.action_hash ?? ''}`
    if (watch.lastKey === key) return
    watch.lastKey = key
    watch.current = new Map(
      currentAssignments(state.assignments).map((a) => [a.action_hash, a.entry.assignee]),
    )
    const event: TaskEvent = {
      type: 'status',
      status,
      attempt: newest?.entry.attempt ?? null,
      assignee: newest?.entry.assignee ?? null,
    }
    for (const listener of watch.listeners) listener(event)
  }

  /** A resource_mesh signal: an assignee started an attempt, or reports progress. */
  onSignal(signal: Signal): void {
    if (signal.dna !== 'resource_mesh') return
    const parsed = TaskSignalSchema.safeParse(signal.payload)
    if (!parsed.success) return
    const { task, assignment, event, progress } = parsed.data
    if (event === 'started') {
      this.#started.set(assignment, signal.from)
      if (this.#started.size > STARTED_LIMIT) this.#started.delete(this.#started.keys().next().value!)
      if (this.#watches.has(task)) this.#refresh(task)
      return
    }
    this.#onProgress?.(assignment, signal.from)
    const watch = this.#watches.get(task)
    // Progress counts only from the assignee of an attempt the watcher knows is current.
    if (watch && progress && watch.current.get(assignment) === signal.from) {
      for (const listener of watch.listeners) listener({ type: 'progress', assignee: signal.from, progress })
    }
  }
}
