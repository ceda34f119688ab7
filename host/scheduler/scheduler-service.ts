/**
 * The scheduler of one host, wiring the pure planners to the conductor port. In its three roles:
 * - claimant (./claimant-plan.ts): claims open tasks its capability, its workers and the policies allow;
 * - requester (./requester-plan.ts): for the tasks this host submitted, assigns the best claims,
 *   reassigns on a lost lease or failed result, and issues the receipt;
 * - assignee (./attempt-runner.ts): runs its current assignment's worker and posts the signed Result.
 *
 * Event-driven: each stored op wakes only the task it is about (`onRecordsStored` names them; the
 * read model holds the index), each write of this host is applied to the read model instead of read
 * back, and timers exist only for the moments that change a task without an op: the end of a claim
 * window, a late claimant's turn, a lease running out, the deadline. One visit per task at a time.
 */
import {
  type Assignment,
  type Claim,
  type ClaimSnapshot,
  currentAssignments,
  type DnaName,
  type EntryRecord,
  LIMITS,
  type NodeCapability,
  type RecordRef,
  type Task,
  type TaskState,
} from '../../zomes-bindings/index.ts'
import type { ConductorPort } from '../conductor/port.ts'
import type { Startable } from '../daemon/startable.ts'
import { crashedModelFiles } from '../inference/model-errors.ts'
import type { Logger } from '../log/logger.ts'
import type { PolicyService } from '../policy/policy-service.ts'
import type { Placement } from '../workers/worker.ts'
import type { WorkerRegistry } from '../workers/worker-registry.ts'
import { AttemptRunner } from './attempt-runner.ts'
import { eagerHaveClaimed, FILL_WINDOWS, LATE_CLAIM_WINDOWS, planClaimant } from './claimant-plan.ts'
import { planRequester } from './requester-plan.ts'
import { claimSnapshotOf, unmetRequirement } from './requirements.ts'
import type { TaskPayloads } from './task-payloads.ts'
import { TaskReadModel, type TaskSummary } from './task-read-model.ts'
import { type TaskView, TaskViews } from './task-views.ts'
import { isTerminal, type TaskEvent, TaskWatches } from './task-watch.ts'
import { VisitQueue } from './visit-queue.ts'

export type { TaskSummary } from './task-read-model.ts'
export type { TaskView } from './task-views.ts'
// The scheduler's callers watch tasks through it: what they hear, and when a task has ended.
export { isTerminal, type TaskEvent } from './task-watch.ts'

export interface SchedulerInit {
  conductor: ConductorPort
  workers: WorkerRegistry
  policies: PolicyService
  /** This host's advertised capability (throws until the registry has started). */
  capability: () => NodeCapability
  /**
   * Calls back when ops of a DNA were stored (replication), with the records they link about and
   * the link types (e.g. `recordsAbout` of the embedded replication). Without it the scheduler
   * sweeps the open tasks every `pollMs`.
   */
  onRecordsStored?: (
    dna: DnaName,
    listener: (about: readonly { record: string; link: string }[]) => void,
  ) => () => void
  /** IPFS for inputs and outputs too large to travel inline (the daemon's artifacts). */
  payloads?: TaskPayloads
  /** Agents never given work (revoked from the mesh); default: none. */
  barred?: (agent: string) => boolean
  /** Sweep period when there is no `onRecordsStored`; default 300 ms. */
  pollMs?: number
  /** How long claims are gathered before the first assignment; default 200 ms. */
  claimWindowMs?: number
  /** Waited past a lease before reassigning; default 250 ms. */
  leaseGraceMs?: number
  /** A task this host declined is looked at again after this long; default 10 s. */
  declineMs?: number
  logger: Logger
}

/** Thrown when a task hash names no task this host holds. */
export class TaskNotFoundError extends Error {
  static override readonly name = 'TaskNotFoundError'
  constructor(hash: string) {
    super(`no task ${hash} is known here (a task submitted elsewhere may not have reached this peer yet)`)
    this.name = 'TaskNotFoundError'
  }
}

/** Thrown when someone other than a task's author tries to cancel it. */
export class NotTaskAuthorError extends Error {
  static override readonly name = 'NotTaskAuthorError'
  constructor(hash: string, author: string) {
    super(`only the task's author ${author} may cancel task ${hash}`)
    this.name = 'NotTaskAuthorError'
  }
}

const DEFAULTS = { pollMs: 300, claimWindowMs: 200, leaseGraceMs: 250, declineMs: 10_000 }
const NODES_CACHE_MS = 1000
/** Visits under way at once: enough that a burst's writes share disk syncs (group commit). */
const VISITS_AT_ONCE = 16

/** An attempt is started only with a tenth of its lease left, or this long (whichever is less). */
const MAX_START_MARGIN_MS = 3000

const nowMicros = () => Date.now() * 1000

interface RequesterMemo {
  /** Whether this host looked at assigning the task to itself at once. */
  selfTried: boolean
  firstClaimSeenAt: number | null
  /** Claimants a policy refused as assignees. */
  refused: Set<string>
}

export class SchedulerService implements Startable {
  readonly #init: SchedulerInit
  readonly #opts: typeof DEFAULTS
  readonly #me: string
  readonly #log: Logger
  readonly #model: TaskReadModel
  readonly #requests = new Map<string, RequesterMemo>()
  /** Open tasks this host declined, until when (ms). */
  readonly #declined = new Map<string, number>()
  /** Assignments this host started (or passed over), per task: each attempt runs once. */
  readonly #handled = new Map<string, string>()
  readonly #runner: AttemptRunner
  readonly #watches: TaskWatches
  readonly #views: TaskViews
  readonly #unsubscribe: (() => void)[] = []
  readonly #queue: VisitQueue
  /** One timer per open task, for its next moment that no op announces. */
  readonly #timers = new Map<string, NodeJS.Timeout>()
  #sweep: NodeJS.Timeout | null = null
  #nodes: { at: number; list: Promise<EntryRecord<NodeCapability>[]> } | null = null
  #stopped = true

  constructor(init: SchedulerInit) {
    this.#init = init
    this.#opts = {
      pollMs: init.pollMs ?? DEFAULTS.pollMs,
      claimWindowMs: init.claimWindowMs ?? DEFAULTS.claimWindowMs,
      leaseGraceMs: init.leaseGraceMs ?? DEFAULTS.leaseGraceMs,
      declineMs: init.declineMs ?? DEFAULTS.declineMs,
    }
    this.#me = init.conductor.agentPubKey
    this.#log = init.logger
    this.#model = new TaskReadModel({ conductor: init.conductor })
    this.#runner = new AttemptRunner({
      ...init,
      onEnded: (task) => this.#touch(task),
      onPosted: (task, record) => {
        this.#model.apply(task, { field: 'results', record })
        this.#touch(task)
      },
    })
    this.#queue = new VisitQueue(
      (task) =>
        this.#visit(task).catch((err: unknown) => this.#log.warn({ err, task }, 'scheduling a task failed')),
      VISITS_AT_ONCE,
    )
    this.#watches = new TaskWatches((task) => this.#touch(task))
    this.#views = new TaskViews({
      conductor: init.conductor,
      workers: init.workers,
      knownNodes: () => this.#knownNodes(),
      claimWindowMs: this.#opts.claimWindowMs,
      fillWindowMs: this.#opts.claimWindowMs * FILL_WINDOWS,
    })
  }

  async start(): Promise<void> {
    this.#stopped = false
    this.#unsubscribe.push(this.#init.conductor.onSignal((signal) => this.#watches.onSignal(signal)))
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
          this.#declined.clear()
          for (const memo of this.#requests.values()) memo.refused.clear()
          for (const hash of this.#model.openTasks()) this.#touch(hash)
        }),
      )
    } else {
      this.#sweep = setInterval(() => void this.#sweepOpen(), this.#opts.pollMs)
      this.#sweep.unref()
    }
    for (const hash of await this.#model.load()) this.#touch(hash)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#sweep) clearInterval(this.#sweep)
    this.#sweep = null
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe()
    await Promise.all([this.#queue.stop(), this.#runner.stop()])
  }

  /** Tasks running here now (reported in heartbeats, and offered in claims). */
  queueDepth(): number {
    return this.#runner.size
  }

  /**
   * The input as a Task carries it: inline, or (above the inline limit, with IPFS) put on IPFS and
   * registered as an Artifact, the Task carrying its CID.
   */
  async taskInput(input: unknown): Promise<Pick<Task, 'input' | 'input_cid'>> {
    const json = JSON.stringify(input)
    const payloads = this.#init.payloads
    if (Buffer.byteLength(json) <= LIMITS.task.input_json_bytes.max || payloads === undefined) {
      return { input: input as Task['input'], input_cid: null }
    }
    const put = await payloads.put(json)
    await payloads.register(put, 'task-input.json', {
      task: null,
      result: null,
      input_cids: [],
      tool: 'ripple task submit',
      model: null,
    })
    return { input: null, input_cid: put.cid }
  }

  async submit(task: Task): Promise<RecordRef> {
    const ref = await this.#init.conductor.callZome('resource_mesh', 'submit_task', task)
    this.#touch(ref.action_hash)
    return ref
  }

  async cancel(hash: string, reason: string): Promise<RecordRef> {
    const state = await this.#state(hash)
    if (state.task.author !== this.#me) throw new NotTaskAuthorError(hash, state.task.author)
    const cancellation = { task: hash, reason }
    const ref = await this.#init.conductor.callZome('resource_mesh', 'cancel_task', cancellation)
    this.#model.apply(hash, { field: 'cancellation', record: this.#own(ref, cancellation) })
    this.#touch(hash)
    return ref
  }

  async view(hash: string): Promise<TaskView> {
    const state = await this.#state(hash)
    return this.#views.view(state, this.#statusOf(state))
  }

  /** Open tasks and the newest finished ones, newest first, from the read model's index. */
  async list(): Promise<TaskSummary[]> {
    return this.#model.list().map((summary) => {
      if (summary.status !== 'assigned') return summary
      const running = this.#runner.runningAssignment(summary.action_hash) !== undefined
      return running ? { ...summary, status: 'running' as const } : summary
    })
  }

  /** Calls `listener` on every status change and progress of a task, starting with its current status. */
  watch(hash: string, listener: (event: TaskEvent) => void): () => void {
    return this.#watches.watch(hash, listener)
  }

  /**
   * Whether a new link about a task is worth a visit here now (its records are read again anyway
   * before they are next used): a claim or a result only to the task's requester (or someone
   * watching it here); anything else to every host holding the task: a new task, an assignment (one
   * may be told to run it, and every capable host sets its timer for the lease, to claim late if the
   * assignee dies), what ends a task.
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

  async #sweepOpen(): Promise<void> {
    try {
      const open = await this.#init.conductor.callZome('resource_mesh', 'list_open_tasks', null)
      for (const task of open) {
        this.#model.markStale(task.action_hash)
        this.#touch(task.action_hash)
      }
    } catch (err) {
      this.#log.warn({ err }, 'reading the open tasks failed')
    }
  }

  async #visit(hash: string): Promise<void> {
    let state = await this.#model.get(hash)
    if (state === null || this.#stopped) return
    const snapshot = this.#snapshot()
    if (state.task.author === this.#me && (await this.#requesterStep(state, snapshot))) {
      state = (await this.#model.get(hash))!
    }
    if (snapshot) await this.#claimantStep(state, snapshot)
    this.#assigneeStep(state, snapshot)
    const status = this.#statusOf(state)
    if (this.#watches.has(hash)) this.#watches.tell(state, status, await this.#views.waiting(state, status))
    if (isTerminal(state.status)) this.#finish(hash)
    else this.#scheduleNext(state)
  }

  /** A finished task: nothing runs or waits for it here any more. */
  #finish(hash: string): void {
    this.#runner.abort(hash, 'the task was cancelled or expired')
    clearTimeout(this.#timers.get(hash))
    this.#timers.delete(hash)
    this.#requests.delete(hash)
    this.#declined.delete(hash)
    this.#handled.delete(hash)
  }

  /** Sets the task's timer for the next moment that changes it without an op. */
  #scheduleNext(state: TaskState): void {
    const hash = state.task.action_hash
    const { task } = state
    const window = this.#opts.claimWindowMs * 1000
    const grace = this.#opts.leaseGraceMs * 1000
    const memo = this.#requests.get(hash)
    const moments = [
      task.entry.deadline,
      task.timestamp + window,
      task.timestamp + window * LATE_CLAIM_WINDOWS,
      task.timestamp + window * FILL_WINDOWS,
      memo?.firstClaimSeenAt == null ? null : memo.firstClaimSeenAt + window,
      (this.#declined.get(hash) ?? 0) * 1000,
      // A lease's end: late claimants claim then, so their claims are in when the requester
      // reassigns it, a grace later.
      // A claimant already tried is retried a claim window after that, if no new one came.
      ...currentAssignments(state.assignments).flatMap((a) => [
        a.entry.lease_expires_at,
        a.entry.lease_expires_at + grace,
        a.entry.lease_expires_at + grace + window,
      ]),
    ]
    const now = nowMicros()
    const next = Math.min(...moments.filter((m): m is number => m !== null && m > now))
    clearTimeout(this.#timers.get(hash))
    if (!Number.isFinite(next)) {
      this.#timers.delete(hash)
      return
    }
    const timer = setTimeout(
      () => {
        this.#timers.delete(hash)
        this.#touch(hash)
      },
      Math.ceil((next - now) / 1000) + 1,
    )
    timer.unref()
    this.#timers.set(hash, timer)
  }

  /** Takes the requester's next steps for one of its tasks; true when it wrote something. */
  async #requesterStep(state: TaskState, snapshot: ClaimSnapshot | null): Promise<boolean> {
    const hash = state.task.action_hash
    let memo = this.#requests.get(hash)
    if (memo === undefined) {
      memo = { selfTried: false, firstClaimSeenAt: null, refused: new Set() }
      this.#requests.set(hash, memo)
    }
    if (snapshot && (await this.#assignSelfIfBest(state, snapshot, memo))) return true
    const now = nowMicros()
    if (memo.firstClaimSeenAt === null && state.claims.length > 0) memo.firstClaimSeenAt = now
    const options = {
      ...this.#opts,
      now,
      firstClaimSeenAt: memo.firstClaimSeenAt,
      claimsIn:
        state.assignments.length === 0 && eagerHaveClaimed(state, await this.#capableNodes(state.task.entry)),
      fillWindowMs: this.#opts.claimWindowMs * FILL_WINDOWS,
      refused: memo.refused,
    }
    // The plan takes one step at a time; re-planning after each assignment gives every slot of a
    // fan-out its claimant in this one visit.
    let wrote = false
    for (;;) {
      const step = planRequester(state, options)
      if (step.kind === 'receipt') {
        const ref = await this.#init.conductor.callZome('resource_mesh', 'issue_receipt', step.receipt)
        this.#model.apply(hash, { field: 'receipt', record: this.#own(ref, step.receipt) })
        this.#log.debug({ task: hash, accepted: step.receipt.accepted }, 'receipt issued')
        return true
      }
      if (step.kind !== 'assign') return wrote
      if (
        this.#init.barred?.(step.claim.author) ||
        (await this.#holdsCrashedFile(state, step.claim.author))
      ) {
        memo.refused.add(step.claim.author)
        continue
      }
      const verdict = await this.#init.policies.decide({
        action: 'assign',
        subject: step.claim.author,
        snapshot: step.claim.entry.snapshot,
        task: state.task,
        decidedBy: this.#me,
      })
      if (!verdict.allowed) {
        memo.refused.add(step.claim.author)
        continue
      }
      const assignment: Assignment = {
        task: hash,
        claim: step.claim.action_hash,
        assignee: step.claim.author,
        slot: step.slot,
        attempt: step.attempt,
        lease_expires_at: nowMicros() + state.task.entry.lease_ms * 1000,
      }
      await this.#assign(hash, assignment)
      wrote = true
      const next = await this.#model.get(hash)
      if (next === null) return wrote
      state = next
    }
  }

  /**
   * Whether the claimant advertises a model file that crashed llama.cpp on an earlier attempt of
   * this task (its failed Result names the file by hash): the copy would crash the same way.
   */
  async #holdsCrashedFile(state: TaskState, claimant: string): Promise<boolean> {
    const crashed = crashedModelFiles(state.results.map((r) => r.entry.error))
    if (crashed.size === 0) return false
    const capability = await this.#init.conductor.callZome('agent_registry', 'get_capability', claimant)
    return capability?.entry.inference.models.some((m) => crashed.has(m.file_hash)) ?? false
  }

  async #claimantStep(state: TaskState, snapshot: ClaimSnapshot): Promise<void> {
    const hash = state.task.action_hash
    if ((this.#declined.get(hash) ?? 0) > Date.now()) return
    // Placing a task (a model's fit) costs more than seeing there is nothing to do.
    if (isTerminal(state.status) || state.claims.some((c) => c.author === this.#me)) return
    const placement = await this.#placement(state.task.entry, snapshot)
    const step = planClaimant(state, {
      me: this.#me,
      now: nowMicros(),
      cannotRun: 'cannot' in placement ? placement.cannot : null,
      capable: await this.#capableNodes(state.task.entry),
      claimWindowMs: this.#opts.claimWindowMs,
    })
    if (step.kind === 'decline') {
      this.#declined.set(hash, Date.now() + this.#opts.declineMs)
      this.#log.debug({ task: hash, reason: step.reason }, 'declined')
    }
    if (step.kind !== 'claim') return
    if ((await this.#claim(state, snapshot)) && state.task.author === this.#me) this.#touch(hash)
  }

  /** Claims the task if the policies allow; answers the claim written, or null (declined). */
  async #claim(state: TaskState, snapshot: ClaimSnapshot): Promise<EntryRecord<Claim> | null> {
    const hash = state.task.action_hash
    const verdict = await this.#init.policies.decide({
      action: 'claim',
      subject: this.#me,
      snapshot,
      task: state.task,
      decidedBy: this.#me,
    })
    if (!verdict.allowed) {
      this.#declined.set(hash, Date.now() + this.#opts.declineMs)
      return null
    }
    const claim = { task: hash, snapshot }
    const ref = await this.#init.conductor.callZome('resource_mesh', 'claim_task', claim)
    const record = this.#own(ref, claim)
    this.#model.apply(hash, { field: 'claims', record })
    this.#log.debug({ task: hash }, 'claimed')
    return record
  }

  /**
   * For a task of this host that runs on a model, when this host is the best place for it (the model
   * loaded here, or here and fitting while no other capable peer has it loaded): claims and assigns it
   * to itself at once, without waiting a claim window for claims from elsewhere. Once per task; a
   * task that fans out needs other peers, and goes the usual way.
   */
  async #assignSelfIfBest(state: TaskState, snapshot: ClaimSnapshot, memo: RequesterMemo): Promise<boolean> {
    const { task } = state
    if (memo.selfTried || state.assignments.length > 0 || task.entry.fan_out !== 1) return false
    if (!this.#needsModel(task.entry)) return false
    memo.selfTried = true
    const placement = await this.#placement(task.entry, snapshot)
    if (!('model' in placement)) return false
    if (!placement.loaded) {
      const capable = new Set(await this.#capableNodes(task.entry))
      const elsewhere = (await this.#knownNodes()).some(
        (n) =>
          n.author !== this.#me &&
          capable.has(n.author) &&
          n.entry.inference.models.some((m) => m.name === placement.model && m.loaded),
      )
      if (elsewhere) return false
    }
    const claim = state.claims.find((c) => c.author === this.#me) ?? (await this.#claim(state, snapshot))
    if (claim === null) return false
    const verdict = await this.#init.policies.decide({
      action: 'assign',
      subject: this.#me,
      snapshot,
      task,
      decidedBy: this.#me,
    })
    if (!verdict.allowed) return false
    await this.#assign(task.action_hash, {
      task: task.action_hash,
      claim: claim.action_hash,
      assignee: this.#me,
      slot: 0,
      attempt: 1,
      lease_expires_at: nowMicros() + task.entry.lease_ms * 1000,
    })
    return true
  }

  async #assign(hash: string, assignment: Assignment): Promise<void> {
    const ref = await this.#init.conductor.callZome('resource_mesh', 'assign_task', assignment)
    this.#model.apply(hash, { field: 'assignments', record: this.#own(ref, assignment) })
    this.#log.debug(
      { task: hash, slot: assignment.slot, attempt: assignment.attempt, assignee: assignment.assignee },
      'assigned',
    )
  }

  /** The agents whose advertised capability meets a task's requirements. */
  async #capableNodes(task: Task): Promise<string[]> {
    const nodes = await this.#knownNodes()
    const anyModel = this.#needsModel(task)
    return nodes
      .filter((n) => unmetRequirement(task.requirements, claimSnapshotOf(n.entry, 0), anyModel) === null)
      .map((n) => n.author)
  }

  #needsModel(task: Task): boolean {
    return this.#init.workers.get(task.kind)?.needsModel === true
  }

  /** The nodes' capabilities, read at most once a second. */
  #knownNodes(): Promise<EntryRecord<NodeCapability>[]> {
    if (this.#nodes === null || Date.now() - this.#nodes.at > NODES_CACHE_MS) {
      const list = this.#init.conductor.callZome('agent_registry', 'list_nodes', null)
      this.#nodes = { at: Date.now(), list }
      list.catch(() => {
        if (this.#nodes?.list === list) this.#nodes = null
      })
    }
    return this.#nodes.list
  }

  /** Where this host would run a task (a worker's placement, or anywhere), or why it cannot. */
  async #placement(task: Task, snapshot: ClaimSnapshot): Promise<Placement | { anywhere: true }> {
    const worker = this.#init.workers.get(task.kind)
    if (worker === undefined) return { cannot: `no worker for kind ${task.kind}` }
    if (task.input_cid !== null && this.#init.payloads === undefined)
      return { cannot: 'this host fetches no inputs from IPFS' }
    const unmet = unmetRequirement(task.requirements, snapshot, worker.needsModel === true)
    if (unmet !== null) return { cannot: `this node has ${unmet}` }
    // An input on IPFS is checked once fetched, by the attempt.
    if (task.input_cid !== null) return { anywhere: true }
    const input = worker.input.safeParse(task.input)
    if (!input.success) return { cannot: `the input does not fit the ${task.kind} worker` }
    return worker.place ? worker.place(input.data) : { anywhere: true }
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

  #snapshot(): ClaimSnapshot | null {
    try {
      return claimSnapshotOf(this.#init.capability(), this.#runner.size)
    } catch {
      // The registry has not advertised yet: nothing to claim with.
      return null
    }
  }

  /** A record this host just wrote, as the read model holds it. */
  #own<T>(ref: RecordRef, entry: T): EntryRecord<T> {
    return { action_hash: ref.action_hash, author: this.#me, timestamp: nowMicros(), entry }
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
