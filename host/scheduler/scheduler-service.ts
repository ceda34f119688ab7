/**
 * The scheduler of one host: visits a task when something about it changed and lets each of its
 * three roles take its step:
 * - claimant (./claimant-role.ts, planned by ./claimant-plan.ts): claims open tasks its capability,
 *   its workers and the policies allow;
 * - requester (./requester-role.ts, planned by ./requester-plan.ts): for the tasks this host
 *   submitted, assigns the best claims, reassigns on a lost lease or failed result, issues the receipt;
 * - assignee (./attempt-runner.ts): runs its current assignment's worker and posts the signed Result.
 * What they write goes through ./task-writes.ts into the read model (./task-read-model.ts).
 *
 * Event-driven: each stored op wakes only the task it is about (`onRecordsStored` names them; the read
 * model holds the index), each write of this host is applied to the read model instead of read back, and
 * timers exist only for the moments that change a task without an op: the end of a claim window, a late
 * claimant's turn, a lease running out, the deadline (./task-timers.ts). One visit per task at a time.
 */
import {
  type ClaimSnapshot,
  currentAssignments,
  type RecordRef,
  type Task,
  type TaskState,
} from '../../zomes-bindings/index.ts'
import type { Logger } from '../log/logger.ts'
import { nowMicros } from '../runtime/clock.ts'
import { readAtStart } from '../runtime/read-at-start.ts'
import { AttemptPulse } from './attempt-pulse.ts'
import { AttemptRunner } from './attempt-runner.ts'
import { type ClaimWindows, claimWindowsOf } from './claim-window.ts'
import { ClaimantRole } from './claimant-role.ts'
import { HeldPayloads } from './held-payloads.ts'
import { KnownNodes } from './known-nodes.ts'
import { listReadsOpen, type SweepReasons, schedulerSweep } from './open-task-sweep.ts'
import { PayloadExchange } from './payload-exchange.ts'
import { PrivatePayloads } from './private-payloads.ts'
import { RequesterRole } from './requester-role.ts'
import { claimSnapshotOf } from './requirements.ts'
import { newSalt } from './salted-payload.ts'
import type { SchedulerInit } from './scheduler-init.ts'
import type { SchedulerPort, TaskOrder } from './scheduler-port.ts'
import { NotTaskAuthorError, TaskNotFoundError } from './task-errors.ts'
import { nextMoment } from './task-moments.ts'
import { noticesDue, TaskNotices } from './task-notices.ts'
import { taskInputOf } from './task-payloads.ts'
import { TaskReadModel, type TaskSummary } from './task-read-model.ts'
import { TaskTimers } from './task-timers.ts'
import { type TaskView, TaskViews } from './task-views.ts'
import { isTerminal, type TaskEvent, TaskWatches } from './task-watch.ts'
import { TaskWrites } from './task-writes.ts'
import { VisitQueue } from './visit-queue.ts'

export type { SchedulerInit } from './scheduler-init.ts'
export type { TaskOrder } from './scheduler-port.ts'
// What the scheduler throws at its callers.
export { NotTaskAuthorError, TaskNotFoundError } from './task-errors.ts'
export type { TaskSummary } from './task-read-model.ts'
export type { TaskView } from './task-views.ts'
// The scheduler's callers watch tasks through it: what they hear, and when a task has ended.
export { isTerminal, type TaskEvent } from './task-watch.ts'

const DEFAULTS = { pollMs: 300, leaseGraceMs: 250, declineMs: 10_000 }
/** Visits under way at once: enough that a burst's writes share disk syncs (group commit). */
const VISITS_AT_ONCE = 16
/** Tasks waiting for a visit from which this host is behind (a full round of visits still to go). */
const BEHIND_AT = VISITS_AT_ONCE

/** An attempt is started only with a tenth of its lease left, or this long (whichever is less). */
const MAX_START_MARGIN_MS = 3000

export class SchedulerService implements SchedulerPort {
  readonly #init: SchedulerInit
  readonly #opts: typeof DEFAULTS
  readonly #windows: ClaimWindows
  readonly #me: string
  readonly #log: Logger
  readonly #model: TaskReadModel
  readonly #writes: TaskWrites
  readonly #claimant: ClaimantRole
  readonly #requester: RequesterRole
  /** Assignments this host started (or passed over), per task: each attempt runs once. */
  readonly #handled = new Map<string, string>()
  readonly #runner: AttemptRunner
  readonly #watches: TaskWatches
  readonly #views: TaskViews
  readonly #kept: PrivatePayloads
  readonly #exchange: PayloadExchange
  readonly #nodes: KnownNodes
  readonly #notices: TaskNotices
  readonly #unsubscribe: (() => void)[] = []
  readonly #queue: VisitQueue
  readonly #timers = new TaskTimers((task) => this.#touch(task))
  readonly #pulse = new AttemptPulse()
  #stopped = true
  /** Aborted at stop: ends the start's reads still being tried again. */
  #running = new AbortController()

  constructor(init: SchedulerInit) {
    this.#init = init
    this.#opts = {
      pollMs: init.pollMs ?? DEFAULTS.pollMs,
      leaseGraceMs: init.leaseGraceMs ?? DEFAULTS.leaseGraceMs,
      declineMs: init.declineMs ?? DEFAULTS.declineMs,
    }
    this.#windows = claimWindowsOf(init.claimWindowMs)
    this.#me = init.conductor.agentPubKey
    this.#log = init.logger
    this.#model = new TaskReadModel({ conductor: init.conductor })
    this.#writes = new TaskWrites({ conductor: init.conductor, model: this.#model, logger: init.logger })
    const nodes = new KnownNodes(init)
    this.#nodes = nodes
    this.#kept = new PrivatePayloads(init.conductor)
    const held = new HeldPayloads(this.#kept, init.payloads, init.logger)
    this.#exchange = new PayloadExchange({
      conductor: init.conductor,
      payloads: this.#kept,
      state: (task) => this.#model.get(task),
      onOutput: (task) => this.#touch(task),
      logger: init.logger,
    })
    this.#notices = new TaskNotices({
      conductor: init.conductor,
      // Told while sharded: a far task is read afresh, and an attempt running here needs no reminder.
      onNotice: (task) => {
        if (this.#runner.runningAssignment(task) !== undefined) return
        this.#model.markStale(task)
        this.#touch(task, this.#model.peek(task) === undefined)
      },
      logger: init.logger,
    })
    this.#claimant = new ClaimantRole({
      ...init,
      me: this.#me,
      nodes,
      writes: this.#writes,
      claimWindowMs: this.#windows.claimMs,
      declineMs: this.#opts.declineMs,
      behind: () => this.#queue.waiting >= BEHIND_AT,
    })
    this.#requester = new RequesterRole({
      ...init,
      me: this.#me,
      nodes,
      model: this.#model,
      writes: this.#writes,
      claimant: this.#claimant,
      claimWindowMs: this.#windows.claimMs,
      leaseGraceMs: this.#opts.leaseGraceMs,
      payloads: held,
      heardAt: (assignment, assignee) => this.#pulse.heardAt(assignment, assignee),
      giveInput: (task, assignee) => this.#exchange.giveInput(task, assignee),
      askOutput: (...ask) => this.#exchange.askOutput(...ask),
    })
    this.#runner = new AttemptRunner({
      ...init,
      exchange: this.#exchange,
      onHeard: (assignment) => this.#pulse.beat(assignment, this.#me),
      onEnded: (task) => this.#touch(task),
      postResult: async (result) => {
        const ref = await this.#writes.result(result)
        this.#touch(result.task)
        return ref
      },
    })
    this.#queue = new VisitQueue(
      (task) =>
        this.#visit(task).catch((err: unknown) => this.#log.warn({ err, task }, 'scheduling a task failed')),
      VISITS_AT_ONCE,
    )
    this.#watches = new TaskWatches((task) => this.#touch(task), this.#pulse.beat)
    this.#views = new TaskViews({
      conductor: init.conductor,
      workers: init.workers,
      knownNodes: () => nodes.list(),
      payloads: held,
      claimWindowMs: this.#windows.claimMs,
      fillWindowMs: this.#windows.fillMs,
    })
  }

  async start(): Promise<void> {
    this.#stopped = false
    this.#running = new AbortController()
    this.#unsubscribe.push(
      this.#init.conductor.onSignal(
        (signal) =>
          this.#exchange.onSignal(signal) || this.#notices.onSignal(signal) || this.#watches.onSignal(signal),
      ),
    )
    const stored = this.#init.onRecordsStored
    if (stored) {
      this.#unsubscribe.push(
        stored('resource_mesh', (about) => {
          for (const { record, link } of about) {
            this.#model.markStale(record)
            if (this.#concerns(record, link)) this.#touch(record, link === 'OpenTasks')
          }
        }),
      )
      this.#unsubscribe.push(
        stored('policy_store', () => {
          // New policies may allow what was declined or refused.
          this.#init.policies.invalidate()
          this.#claimant.reconsider()
          this.#requester.reconsider()
          for (const hash of this.#model.openTasks()) this.#touch(hash)
        }),
      )
    }
    const sweep = schedulerSweep({
      ...this.#init,
      everyMs: this.#opts.pollMs,
      reasons: () => this.#sweepReasons(),
      found: (hash) => {
        this.#model.markStale(hash)
        this.#touch(hash)
      },
    })
    if (sweep) this.#unsubscribe.push(sweep)
    // Sharded, the tasks are read from their holders: a busy mesh may not answer in time, which must
    // not stop this host from starting (read again in the background, each task visited once read).
    await readAtStart(
      () => this.#model.load(),
      (open) => {
        for (const hash of open) this.#touch(hash)
      },
      { what: 'the tasks', signal: this.#running.signal, logger: this.#log },
    )
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#running.abort()
    this.#timers.clearAll()
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe()
    await Promise.all([this.#queue.stop(), this.#runner.stop()])
  }

  /** Tasks running here now (reported in heartbeats, and offered in claims). */
  queueDepth(): number {
    return this.#runner.size
  }

  /** Submits a task for `input`, kept here, private; the Task has its hash and size (see taskInputOf). */
  async submit(order: TaskOrder, input: unknown): Promise<RecordRef> {
    const salt = this.#init.versions?.everySpeaks('entries', 2) ? newSalt() : null
    const named = await taskInputOf(input, this.#kept, this.#init.payloads, salt)
    const task: Task = { ...order, ...named }
    const ref = await this.#init.conductor.callZome('resource_mesh', 'submit_task', task)
    this.#touch(ref.action_hash)
    return ref
  }

  async cancel(hash: string, reason: string): Promise<RecordRef> {
    const state = await this.#state(hash)
    if (state.task.author !== this.#me) throw new NotTaskAuthorError(hash, state.task.author)
    const ref = await this.#writes.cancel({ task: hash, reason })
    this.#touch(hash)
    return ref
  }

  async view(hash: string): Promise<TaskView> {
    // Polled, only open tasks are re-read; sharded, only what this host holds marks a task stale.
    if (!this.#init.onRecordsStored || this.#init.polling?.()) this.#model.markStale(hash)
    const state = await this.#state(hash)
    return this.#views.view(state, this.#statusOf(state))
  }

  /** Open tasks and the newest finished ones, newest first (far open ones read first if `listReadsOpen`). */
  async list(): Promise<TaskSummary[]> {
    if (listReadsOpen({ ...this.#init, reasons: () => this.#sweepReasons() })) await this.#model.readOpen()
    return this.known()
  }

  /** The tasks known here, read from what this host holds: `list` on a sharded bystander asks holders. */
  known(): TaskSummary[] {
    const running = (t: TaskSummary) =>
      t.status === 'assigned' && this.#runner.runningAssignment(t.action_hash) !== undefined
    return this.#model.list().map((t) => (running(t) ? { ...t, status: 'running' as const } : t))
  }

  /** Calls `listener` on every status change and progress of a task, starting with its current status. */
  watch(hash: string, listener: (event: TaskEvent) => void): () => void {
    return this.#watches.watch(hash, listener)
  }

  /**
   * Whether a new link about a task is worth a visit here now (its records are read again anyway before
   * they are next used): a claim or a result only to the task's requester (or someone watching it here);
   * anything else to every host holding the task: a new task, an assignment (one may be told to run it,
   * and every capable host sets its timer for the lease, to claim late if the assignee dies), what ends it.
   */
  #concerns(hash: string, link: string): boolean {
    const known = this.#model.peek(hash)
    if (known === undefined || this.#watches.has(hash)) return true
    if (link === 'TaskToClaims' || link === 'TaskToResults') return known.task.author === this.#me
    return true
  }

  /** Visits the task soon (see VisitQueue); `isNew` for a task new to this host. */
  #touch(hash: string, isNew = false): void {
    if (!this.#stopped) this.#queue.touch(hash, isNew)
  }

  async #visit(hash: string): Promise<void> {
    let state = await this.#model.get(hash)
    if (state === null || this.#stopped) return
    const snapshot = this.#snapshot()
    if (state.task.author === this.#me && (await this.#requester.step(state, snapshot))) {
      state = (await this.#model.get(hash))!
    }
    // Sharded, the peers that could run it or were assigned it may not hold it (task-notices.ts).
    if (state.task.author === this.#me && !isTerminal(state.status) && this.#init.polling?.()) {
      const due = noticesDue(state, await this.#nodes.capable(state.task), this.#me, nowMicros())
      void this.#notices.tell(hash, due)
    }
    // A claim on its own task needs the requester to look again.
    if (snapshot && (await this.#claimant.step(state, snapshot)) && state.task.author === this.#me)
      this.#touch(hash)
    this.#assigneeStep(state, snapshot)
    const status = this.#statusOf(state)
    if (this.#watches.has(hash)) this.#watches.tell(state, status, await this.#views.waiting(state, status))
    if (isTerminal(state.status)) this.#finish(hash)
    else this.#scheduleNext(state)
  }

  /** A finished task: nothing runs or waits for it here any more. */
  #finish(hash: string): void {
    this.#runner.abort(hash, 'the task was cancelled or expired')
    this.#timers.clear(hash)
    this.#requester.forget(hash)
    this.#claimant.forget(hash)
    this.#handled.delete(hash)
  }

  /** Sets the task's timer for the next moment that changes it without an op. */
  #scheduleNext(state: TaskState): void {
    const hash = state.task.action_hash
    const now = nowMicros()
    const next = nextMoment(state, {
      now,
      claimWindowMs: this.#windows.claimMs(),
      leaseGraceMs: this.#opts.leaseGraceMs,
      firstClaimSeenAt: this.#requester.firstClaimSeenAt(hash),
      declinedUntil: this.#claimant.declinedUntil(hash),
      lookAgainAt: this.#claimant.lookAgainAt(hash),
      heard: this.#requester.heard(state),
    })
    this.#timers.set(hash, next, now)
  }

  #assigneeStep(state: TaskState, snapshot: ClaimSnapshot | null): void {
    const hash = state.task.action_hash
    // This host's attempt: the newest slot whose current attempt is assigned here (the requester
    // gives a claimant one slot at a time).
    const mine = currentAssignments(state.assignments)
      .filter((a) => a.entry.assignee === this.#me)
      .sort((a, b) => a.timestamp - b.timestamp)
      .at(-1)
    this.#runner.abort(hash, 'a newer attempt was assigned', mine?.action_hash)
    if (mine === undefined) return
    // An attempt of this task still winding down here: its end wakes the task again.
    if (this.#handled.get(hash) === mine.action_hash || this.#runner.runningAssignment(hash)) return
    this.#handled.set(hash, mine.action_hash)
    const posted = state.results.some((r) => r.entry.assignment === mine.action_hash)
    // Reached this close to the lease's end (a backlog here), the Result would likely reach the
    // requester after it reassigned the task: left to the next claimant rather than run twice.
    const margin = Math.min(state.task.entry.lease_ms / 10, MAX_START_MARGIN_MS) * 1000
    if (posted || isTerminal(state.status) || mine.entry.lease_expires_at < nowMicros() + margin) return
    const attempt = {
      task: state.task,
      assignment: mine.action_hash,
      leaseExpiresAt: mine.entry.lease_expires_at,
    }
    this.#runner.start(attempt, snapshot)
  }

  #sweepReasons(): SweepReasons {
    const [models, ownOpen] = [this.#snapshot()?.models.length ?? null, this.#model.hasOpenBy(this.#me)]
    return { models, ownOpen, following: this.#watches.size + this.#runner.size }
  }

  #snapshot(): ClaimSnapshot | null {
    try {
      return claimSnapshotOf(this.#init.capability(), this.#runner.size)
    } catch {
      // The registry has not advertised yet: nothing to claim with.
      return null
    }
  }

  async #state(hash: string): Promise<TaskState> {
    const state = await this.#model.get(hash)
    if (state === null) throw new TaskNotFoundError(hash)
    return state
  }

  /** The derived status, `running` once the assignee said it started (or runs it here). */
  #statusOf(state: TaskState) {
    return this.#watches.statusOf(state, this.#runner.runningAssignment(state.task.action_hash))
  }
}
