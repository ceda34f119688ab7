/**
 * The tasks this host knows, as the scheduler reads them: each task's records, read once and then
 * kept current (this host's own writes applied in place, never read back; a task read again only
 * after an op of another peer about it was stored), an index of the open ones, and the newest
 * finished ones for listings. What it holds grows with the open tasks, not with history: a finished
 * task beyond the newest `recentLimit` is forgotten here (the DHT keeps it).
 */
import {
  type Assignment,
  type Cancellation,
  type Claim,
  deriveTaskStatus,
  type EntryRecord,
  type Receipt,
  type TaskResult,
  type TaskState,
  type TaskStatus,
} from '../../zomes-bindings/index.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import { nowMicros } from '../runtime/clock.ts'
import { isTerminal } from './task-watch.ts'

/** A task in a listing. */
export interface TaskSummary {
  action_hash: string
  kind: string
  author: string
  status: TaskStatus
  submitted_at: number
  claims: number
  attempts: number
}

/** A record this host just wrote about a task, by the TaskState field it belongs to. */
export type OwnRecord =
  | { field: 'claims'; record: EntryRecord<Claim> }
  | { field: 'assignments'; record: EntryRecord<Assignment> }
  | { field: 'results'; record: EntryRecord<TaskResult> }
  | { field: 'receipt'; record: EntryRecord<Receipt> }
  | { field: 'cancellation'; record: EntryRecord<Cancellation> }

type Records = Omit<TaskState, 'status'>

export interface TaskReadModelInit {
  conductor: Pick<ConductorPort, 'callZome'>
  /** Finished tasks kept for listings (and loaded at start). Default 200. */
  recentLimit?: number
}

export class TaskReadModel {
  readonly #conductor: TaskReadModelInit['conductor']
  readonly #recentLimit: number
  readonly #records = new Map<string, Records>()
  /** Tasks whose stored records changed since they were read. */
  readonly #stale = new Set<string>()
  /** Reads in flight, so concurrent readers share one. */
  readonly #reading = new Map<string, Promise<Records | null>>()
  /** Own writes applied per task: a read that started before one is out of date when it ends. */
  readonly #applied = new Map<string, number>()
  /** The index: tasks not finished as of their last read. */
  readonly #open = new Set<string>()
  /** Finished tasks, oldest first (a Map keeps insertion order). */
  readonly #finished = new Map<string, true>()

  constructor(init: TaskReadModelInit) {
    this.#conductor = init.conductor
    this.#recentLimit = init.recentLimit ?? 200
  }

  /** Reads the open tasks and the newest finished ones; answers the open ones. */
  async load(): Promise<string[]> {
    const [open, newest] = await Promise.all([
      this.#conductor.callZome('resource_mesh', 'list_open_tasks', null),
      this.#conductor.callZome('resource_mesh', 'list_tasks', { limit: this.#recentLimit }),
    ])
    const hashes = new Set([...newest.reverse(), ...open].map((t) => t.action_hash))
    await Promise.all([...hashes].map((hash) => this.get(hash)))
    return this.openTasks()
  }

  /**
   * Reads the open tasks again, each one's records too, where nothing else keeps far ones current (a
   * sharded peer that does not sweep); one listed here before and since finished is read again as well.
   */
  async readOpen(): Promise<void> {
    const open = await this.#conductor.callZome('resource_mesh', 'list_open_tasks', null)
    const hashes = new Set([...this.#open, ...open.map((t) => t.action_hash)])
    for (const hash of hashes) this.markStale(hash)
    await Promise.all([...hashes].map((hash) => this.get(hash)))
  }

  /** The task's records as last read (and applied), without reading; undefined when not held. */
  peek(hash: string): Readonly<Records> | undefined {
    return this.#records.get(hash)
  }

  /** An op of another peer about the task was stored: read it again before it is next used. */
  markStale(hash: string): void {
    this.#stale.add(hash)
  }

  /** The task's state now (status derived at `now`, microseconds), or null when no such task is known. */
  async get(hash: string, now = nowMicros()): Promise<TaskState | null> {
    let records = this.#stale.has(hash) ? undefined : this.#records.get(hash)
    while (records === undefined) {
      const read = await this.#read(hash)
      if (read === null) return null
      // A write of this host applied while the read ran is missing from it: read again.
      records = this.#stale.has(hash) ? undefined : read
    }
    const state = { ...records, status: deriveTaskStatus(records, now) }
    this.#index(hash, state.status)
    return state
  }

  /**
   * Applies a record this host just wrote (what the zome stored, without reading it back). A read
   * that ran between the write's commit and this call already holds it: applied once only.
   */
  apply(hash: string, own: OwnRecord): void {
    this.#applied.set(hash, (this.#applied.get(hash) ?? 0) + 1)
    const records = this.#records.get(hash)
    if (records === undefined) return
    const next: Records = { ...records }
    const held = (list: readonly { action_hash: string }[]) =>
      list.some((r) => r.action_hash === own.record.action_hash)
    switch (own.field) {
      case 'claims':
        if (held(records.claims)) return
        next.claims = [...records.claims, own.record]
        break
      case 'assignments':
        if (held(records.assignments)) return
        next.assignments = [...records.assignments, own.record].sort(
          (a, b) => a.entry.attempt - b.entry.attempt || a.timestamp - b.timestamp,
        )
        break
      case 'results':
        if (held(records.results)) return
        next.results = [...records.results, own.record]
        break
      case 'receipt':
        next.receipt = own.record
        break
      case 'cancellation':
        next.cancellation = own.record
        break
    }
    this.#records.set(hash, next)
  }

  /** The tasks open as of their last read. */
  openTasks(): string[] {
    return [...this.#open]
  }

  /** Whether a task `author` submitted is open as of its last read. */
  hasOpenBy(author: string): boolean {
    for (const hash of this.#open) if (this.#records.get(hash)?.task.author === author) return true
    return false
  }

  /** Open tasks and the newest finished ones, newest first. */
  list(now = nowMicros()): TaskSummary[] {
    const summaries: TaskSummary[] = []
    for (const hash of [...this.#open, ...this.#finished.keys()]) {
      const records = this.#records.get(hash)
      if (records === undefined) continue
      summaries.push({
        action_hash: hash,
        kind: records.task.entry.kind,
        author: records.task.author,
        status: deriveTaskStatus(records, now),
        submitted_at: records.task.timestamp,
        claims: records.claims.length,
        attempts: records.assignments.length,
      })
    }
    return summaries.sort((a, b) => b.submitted_at - a.submitted_at)
  }

  #read(hash: string): Promise<Records | null> {
    const inFlight = this.#reading.get(hash)
    if (inFlight) return inFlight
    // An op stored while the read runs may be missed by it: it stays stale then.
    this.#stale.delete(hash)
    const applied = this.#applied.get(hash)
    const read = this.#conductor
      .callZome('resource_mesh', 'get_task_state', hash)
      .then((state) => {
        if (this.#applied.get(hash) !== applied) {
          this.#stale.add(hash)
          return state
        }
        // Not (yet) a task here: a link about it may arrive before the task itself.
        if (state === null) return null
        const { status: _, ...records } = state
        this.#records.set(hash, records)
        return records
      })
      .finally(() => this.#reading.delete(hash))
    this.#reading.set(hash, read)
    return read
  }

  #index(hash: string, status: TaskStatus): void {
    if (!isTerminal(status)) {
      this.#open.add(hash)
      return
    }
    this.#open.delete(hash)
    if (this.#finished.has(hash)) return
    this.#finished.set(hash, true)
    if (this.#finished.size > this.#recentLimit) {
      const oldest = this.#finished.keys().next().value!
      this.#finished.delete(oldest)
      this.#records.delete(oldest)
    }
  }
}
