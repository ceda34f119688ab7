/**
 * The scheduler of one host, in its three roles:
 * - claimant: claims open tasks its capability, its workers and the policies allow;
 * - requester: for the tasks this host submitted, assigns the best claim after a short window (the
 *   best N to N different claimants for a task with fan-out N), watches the leases, reassigns on a
 *   lost lease or failed result up to max_attempts, and issues the receipt, reducing the answers by
 *   agreement;
 * - assignee: runs its current assignment's worker (aborted on cancel, lease loss or stop) and posts
 *   the signed Result.
 * It wakes on stored records (`onRecordsStored`) and polls as a fallback; one pass at a time.
 */
import {
  type ClaimSnapshot,
  currentAssignments,
  type Decision,
  type DnaName,
  type EntryRecord,
  LIMITS,
  type NodeCapability,
  type RecordRef,
  type Task,
  type TaskState,
  type TaskStatus,
} from '../../zomes-bindings/index.ts'
import type { ConductorPort } from '../conductor/port.ts'
import type { Startable } from '../daemon/startable.ts'
import { crashedModelFiles } from '../inference/model-errors.ts'
import type { Logger } from '../log/logger.ts'
import type { PolicyService } from '../policy/policy-service.ts'
import type { WorkerRegistry } from '../workers/worker-registry.ts'
import { AttemptRunner } from './attempt-runner.ts'
import { rendezvousFirst, rendezvousRank } from './claim-ranking.ts'
import { planRequester } from './requester-plan.ts'
import { claimSnapshotOf, unmetRequirement, whyNoNodeQualifies } from './requirements.ts'
import type { TaskPayloads } from './task-payloads.ts'
import { isTerminal, type TaskEvent, TaskWatches } from './task-watch.ts'

// The scheduler's callers watch tasks through it: what they hear, and when a task has ended.
export { isTerminal, type TaskEvent } from './task-watch.ts'

export interface SchedulerInit {
  conductor: ConductorPort
  workers: WorkerRegistry
  policies: PolicyService
  /** This host's advertised capability (throws until the registry has started). */
  capability: () => NodeCapability
  /** Calls back when records of a DNA were stored (replication); the scheduler polls besides. */
  onRecordsStored?: (dna: DnaName, listener: () => void) => () => void
  /** IPFS for inputs and outputs too large to travel inline (the daemon's artifacts). */
  payloads?: TaskPayloads
  /** Fallback poll period; default 300 ms. */
  pollMs?: number
  /** How long claims are gathered before the first assignment; default 200 ms. */
  claimWindowMs?: number
  /** Waited past a lease before reassigning; default 250 ms. */
  leaseGraceMs?: number
  /** A task this host declined is looked at again after this long; default 10 s. */
  declineMs?: number
  logger: Logger
}

/** A task as `ripple task show` presents it. */
export interface TaskView {
  /** The records, with `status` as this host knows it (`running` once the assignee said it started). */
  state: TaskState
  /** For a task no node has claimed: why, as far as this host can tell. */
  why_unclaimed: string | null
  /** Policy decisions recorded about this task, newest first. */
  decisions: EntryRecord<Decision>[]
}

export interface TaskSummary {
  action_hash: string
  kind: string
  author: string
  status: TaskStatus
  submitted_at: number
  claims: number
  attempts: number
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
/** Nodes beyond a task's fan-out that claim it at once (a spare); the rest wait to see whether they are needed. */
const SPARE_CLAIMANTS = 1
/**
 * Claim windows the others wait before claiming a task that lacks claims. Long enough that claims
 * still on their way (replication lags in a burst) arrive first.
 */
const LATE_CLAIM_WINDOWS = 10
/**
 * Claim windows from submission after which a fan-out slot nobody is left to claim is given up: the
 * late claimants' wait, and two windows more for their claims to arrive.
 */
const FILL_WINDOWS = LATE_CLAIM_WINDOWS + 2
const NODES_CACHE_MS = 1000
/** Least pause between two passes woken back to back. */
const PASS_GAP_MS = 20
/** Handled assignments remembered beyond this are forgotten oldest first. */
const MEMORY_LIMIT = 4096
/** Tasks submitted here that `list` shows after they close. */
const RECENT_LIMIT = 100

const nowMicros = () => Date.now() * 1000

interface RequesterMemo {
  firstClaimSeenAt: number | null
  /** Claimants a policy refused as assignees. */
  refused: Set<string>
}

export class SchedulerService implements Startable {
  readonly #init: SchedulerInit
  readonly #opts: typeof DEFAULTS
  readonly #me: string
  readonly #log: Logger
  readonly #requests = new Map<string, RequesterMemo>()
  /** Tasks this host claimed ('claimed') or declined (until when, ms). */
  readonly #claims = new Map<string, 'claimed' | number>()
  readonly #handledAssignments = new Set<string>()
  readonly #runner: AttemptRunner
  readonly #watches: TaskWatches
  readonly #recent: string[] = []
  readonly #unsubscribe: (() => void)[] = []
  #timer: NodeJS.Timeout | null = null
  #pass: Promise<void> | null = null
  #nodes: { at: number; list: Promise<EntryRecord<NodeCapability>[]> } | null = null
  #again = false
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
    this.#runner = new AttemptRunner({ ...init, onEnded: () => this.#wake() })
    this.#watches = new TaskWatches((task) => void this.#refreshWatch(task))
  }

  async start(): Promise<void> {
    this.#stopped = false
    this.#unsubscribe.push(this.#init.conductor.onSignal((signal) => this.#watches.onSignal(signal)))
    const stored = this.#init.onRecordsStored
    if (stored) {
      this.#unsubscribe.push(stored('resource_mesh', () => this.#wake()))
      this.#unsubscribe.push(
        stored('policy_store', () => {
          // New policies may allow what was declined or refused.
          this.#init.policies.invalidate()
          for (const [task, claim] of this.#claims) if (claim !== 'claimed') this.#claims.delete(task)
          for (const memo of this.#requests.values()) memo.refused.clear()
          this.#wake()
        }),
      )
    }
    this.#timer = setInterval(() => this.#wake(), this.#opts.pollMs)
    this.#timer.unref()
    this.#wake()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe()
    await Promise.all([this.#pass, this.#runner.stop()])
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
    this.#recent.unshift(ref.action_hash)
    this.#recent.splice(RECENT_LIMIT)
    this.#wake()
    return ref
  }

  async cancel(hash: string, reason: string): Promise<RecordRef> {
    const state = await this.#state(hash)
    if (state.task.author !== this.#me) throw new NotTaskAuthorError(hash, state.task.author)
    const ref = await this.#init.conductor.callZome('resource_mesh', 'cancel_task', { task: hash, reason })
    this.#wake()
    return ref
  }

  async view(hash: string): Promise<TaskView> {
    const state = await this.#state(hash)
    const decisions = (
      await this.#init.conductor.callZome('policy_store', 'list_decisions', { subject: null, limit: 1000 })
    ).filter((d) => d.entry.resource === `Task::"${hash}"`)
    const status = this.#statusOf(state)
    const unclaimed = status === 'submitted' || (status === 'expired' && state.claims.length === 0)
    return {
      state: { ...state, status },
      why_unclaimed: unclaimed ? await this.#whyUnclaimed(state, decisions) : null,
      decisions,
    }
  }

  /** Open tasks and the ones submitted here lately, newest first. */
  async list(): Promise<TaskSummary[]> {
    const open = await this.#init.conductor.callZome('resource_mesh', 'list_open_tasks', null)
    const hashes = [...new Set([...open.map((t) => t.action_hash), ...this.#recent])]
    const states = await Promise.all(
      hashes.map((h) => this.#init.conductor.callZome('resource_mesh', 'get_task_state', h)),
    )
    return states
      .flatMap((s) => (s ? [s] : []))
      .map((s) => ({
        action_hash: s.task.action_hash,
        kind: s.task.entry.kind,
        author: s.task.author,
        status: this.#statusOf(s),
        submitted_at: s.task.timestamp,
        claims: s.claims.length,
        attempts: s.assignments.length,
      }))
      .sort((a, b) => b.submitted_at - a.submitted_at)
  }

  /** Calls `listener` on every status change and progress of a task, starting with its current status. */
  watch(hash: string, listener: (event: TaskEvent) => void): () => void {
    return this.#watches.watch(hash, listener)
  }

  #wake(): void {
    if (this.#stopped) return
    if (this.#pass) {
      this.#again = true
      return
    }
    this.#pass = (async () => {
      do {
        this.#again = false
        const started = Date.now()
        await this.#onePass().catch((err: unknown) => this.#log.warn({ err }, 'scheduler pass failed'))
        // Records arrive in bursts (one per op stored): a pause lets one pass answer many, and as long
        // as the pass took, so that under load the scheduler leaves half the time to everything else.
        const gap = Math.max(PASS_GAP_MS, Date.now() - started)
        if (this.#again) await new Promise((resolve) => setTimeout(resolve, gap))
      } while (this.#again && !this.#stopped)
    })().finally(() => {
      this.#pass = null
    })
  }

  async #onePass(): Promise<void> {
    const open = await this.#init.conductor.callZome('resource_mesh', 'list_open_tasks', null)
    const openHashes = new Set(open.map((t) => t.action_hash))
    const snapshot = this.#snapshot()
    for (const task of open) {
      if (this.#stopped) return
      try {
        await this.#visit(task, snapshot)
      } catch (err) {
        this.#log.warn({ err, task: task.action_hash }, 'scheduling a task failed')
      }
    }
    this.#runner.abortOthers(openHashes, 'the task was cancelled or expired')
    for (const hash of this.#watches.tasks()) if (!openHashes.has(hash)) await this.#refreshWatch(hash)
    for (const hash of this.#claims.keys()) if (!openHashes.has(hash)) this.#claims.delete(hash)
    for (const hash of this.#requests.keys()) if (!openHashes.has(hash)) this.#requests.delete(hash)
  }

  async #visit(task: EntryRecord<Task>, snapshot: ClaimSnapshot | null): Promise<void> {
    const hash = task.action_hash
    const mine = task.author === this.#me
    const claim = this.#claims.get(hash)
    const declined = typeof claim === 'number' && claim > Date.now()
    if (!mine && declined && !this.#watches.has(hash)) return
    let state = await this.#init.conductor.callZome('resource_mesh', 'get_task_state', hash)
    if (state === null) return
    // What the requester just wrote (an assignment, a receipt) matters to the steps below and to watchers.
    if (mine && (await this.#requesterStep(state))) {
      state = await this.#init.conductor.callZome('resource_mesh', 'get_task_state', hash)
      if (state === null) return
    }
    if (snapshot && !declined && claim !== 'claimed') await this.#claimantStep(state, snapshot)
    this.#assigneeStep(state, snapshot)
    this.#watches.tell(state, this.#statusOf(state))
  }

  /** Takes the requester's next step for one of its tasks; true when it wrote something. */
  async #requesterStep(state: TaskState): Promise<boolean> {
    const hash = state.task.action_hash
    let memo = this.#requests.get(hash)
    if (memo === undefined) {
      memo = { firstClaimSeenAt: null, refused: new Set() }
      this.#requests.set(hash, memo)
    }
    const now = nowMicros()
    if (memo.firstClaimSeenAt === null && state.claims.length > 0) {
      memo.firstClaimSeenAt = now
      // The window's end is a step of its own: wake for it rather than wait for the next poll.
      setTimeout(() => this.#wake(), this.#opts.claimWindowMs).unref()
    }
    const options = {
      ...this.#opts,
      now,
      firstClaimSeenAt: memo.firstClaimSeenAt,
      claimsIn: state.assignments.length === 0 && (await this.#eagerHaveClaimed(state)),
      fillWindowMs: this.#opts.claimWindowMs * FILL_WINDOWS,
      refused: memo.refused,
    }
    // The plan takes one step at a time; re-planning after each assignment gives every slot of a
    // fan-out its claimant in this one visit.
    let assigned = 0
    while (assigned < state.task.entry.fan_out) {
      const step = planRequester(state, options)
      if (step.kind === 'receipt') {
        await this.#init.conductor.callZome('resource_mesh', 'issue_receipt', step.receipt)
        this.#log.debug({ task: hash, accepted: step.receipt.accepted }, 'receipt issued')
        return true
      }
      if (step.kind !== 'assign') break
      if (await this.#holdsCrashedFile(state, step.claim.author)) {
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
      await this.#init.conductor.callZome('resource_mesh', 'assign_task', {
        task: hash,
        claim: step.claim.action_hash,
        assignee: step.claim.author,
        slot: step.slot,
        attempt: step.attempt,
        lease_expires_at: nowMicros() + state.task.entry.lease_ms * 1000,
      })
      assigned++
      this.#log.debug(
        { task: hash, slot: step.slot, attempt: step.attempt, assignee: step.claim.author },
        'assigned',
      )
      const next = await this.#init.conductor.callZome('resource_mesh', 'get_task_state', hash)
      if (next === null) break
      state = next
    }
    return assigned > 0
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
    if (isTerminal(state.status)) return
    if (state.claims.some((c) => c.author === this.#me)) {
      this.#claims.set(hash, 'claimed')
      return
    }
    const cannot = this.#cannotRun(state.task.entry, snapshot)
    if (cannot === null && !(await this.#claimsNow(state))) return
    if (cannot === null) {
      const verdict = await this.#init.policies.decide({
        action: 'claim',
        subject: this.#me,
        snapshot,
        task: state.task,
        decidedBy: this.#me,
      })
      if (verdict.allowed) {
        await this.#init.conductor.callZome('resource_mesh', 'claim_task', { task: hash, snapshot })
        this.#claims.set(hash, 'claimed')
        this.#again = true
        return
      }
    }
    this.#claims.set(hash, Date.now() + this.#opts.declineMs)
  }

  /**
   * Whether to claim now. The first fan-out + SPARE_CLAIMANTS capable nodes by rendezvous hash claim
   * at once; the others hold back and claim only a task still unassigned after LATE_CLAIM_WINDOWS,
   * so a burst of tasks does not cost every node a claim on every task, and the load spreads.
   */
  async #claimsNow(state: TaskState): Promise<boolean> {
    const { fan_out } = state.task.entry
    const eager = fan_out + SPARE_CLAIMANTS
    const capable = await this.#capableNodes(state.task.entry)
    if (rendezvousRank(state.task.action_hash, this.#me, capable) < eager) return true
    // Late: only for a task still waiting (or with fewer claimants than slots) that lacks claims from
    // nodes not yet tried (the eager ones have no worker for it, are gone, or failed it); a busy
    // requester is no reason to pile on.
    const tried = new Set(state.assignments.map((a) => a.entry.assignee))
    const claimants = new Set(state.claims.map((c) => c.author))
    const untried = [...claimants].filter((a) => !tried.has(a)).length
    const waiting = state.status === 'submitted' || state.status === 'claimed' || claimants.size < fan_out
    const late = nowMicros() - state.task.timestamp > this.#opts.claimWindowMs * LATE_CLAIM_WINDOWS * 1000
    return waiting && late && untried < eager
  }

  /**
   * Whether every node that claims a task at once (#claimsNow) has claimed it, as far as this host
   * knows the nodes: then the requester need not wait out the claim window for claims to come.
   */
  async #eagerHaveClaimed(state: TaskState): Promise<boolean> {
    const { task } = state
    const capable = await this.#capableNodes(task.entry)
    const expected = task.entry.fan_out + SPARE_CLAIMANTS
    const eager = rendezvousFirst(task.action_hash, capable, expected)
    const claimants = new Set(state.claims.map((c) => c.author))
    // Fewer known capable nodes than expected claimants may only mean this host's view of the mesh is
    // behind: then the window runs its full length rather than closing on a partial set of claims.
    return eager.length === expected && eager.every((agent) => claimants.has(agent))
  }

  /** The agents whose advertised capability meets a task's requirements. */
  async #capableNodes(task: Task): Promise<string[]> {
    const nodes = await this.#knownNodes()
    return nodes
      .filter((n) => unmetRequirement(task.requirements, claimSnapshotOf(n.entry, 0)) === null)
      .map((n) => n.author)
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

  /** Why this host cannot run a task, or null when it can. */
  #cannotRun(task: Task, snapshot: ClaimSnapshot): string | null {
    const worker = this.#init.workers.get(task.kind)
    if (worker === undefined) return `no worker for kind ${task.kind}`
    if (task.input_cid !== null && this.#init.payloads === undefined)
      return 'this host fetches no inputs from IPFS'
    const unmet = unmetRequirement(task.requirements, snapshot)
    if (unmet !== null) return `this node has ${unmet}`
    // An input on IPFS is checked once fetched, by the attempt.
    return task.input_cid !== null || worker.input.safeParse(task.input).success
      ? null
      : `the input does not fit the ${task.kind} worker`
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
    // An attempt of this task still winding down here: the next pass starts this one.
    if (this.#handledAssignments.has(mine.action_hash) || this.#runner.runningAssignment(hash)) return
    remember(this.#handledAssignments, mine.action_hash)
    const posted = state.results.some((r) => r.entry.assignment === mine.action_hash)
    if (posted || isTerminal(state.status) || mine.entry.lease_expires_at < nowMicros()) return
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

  async #state(hash: string): Promise<TaskState> {
    const state = await this.#init.conductor.callZome('resource_mesh', 'get_task_state', hash)
    if (state === null) throw new TaskNotFoundError(hash)
    return state
  }

  /** The derived status, `running` once the assignee said it started (or runs it here). */
  #statusOf(state: TaskState): TaskStatus {
    return this.#watches.statusOf(state, this.#runner.runningAssignment(state.task.action_hash))
  }

  async #whyUnclaimed(state: TaskState, decisions: EntryRecord<Decision>[]): Promise<string> {
    const nodes = await this.#init.conductor.callZome('agent_registry', 'list_nodes', null)
    const requirements = state.task.entry.requirements
    const reasons = [
      whyNoNodeQualifies(
        requirements,
        nodes.map((n) => claimSnapshotOf(n.entry, 0)),
      ) ?? `${nodes.length === 1 ? 'the only node meets' : `${nodes.length} nodes meet`} the requirements`,
    ]
    const denied = new Set(
      decisions.filter((d) => d.entry.action === 'claim' && !d.entry.allowed).map((d) => d.author),
    )
    if (denied.size > 0)
      reasons.push(`a policy denied the claim on ${denied.size} node${denied.size === 1 ? '' : 's'}`)
    if (this.#init.workers.get(state.task.entry.kind) === undefined) {
      reasons.push(`this host has no worker for kind ${state.task.entry.kind}`)
    }
    return reasons.join('; ')
  }

  async #refreshWatch(hash: string): Promise<void> {
    if (!this.#watches.has(hash)) return
    try {
      const state = await this.#state(hash)
      this.#watches.tell(state, this.#statusOf(state))
    } catch (err) {
      this.#log.debug({ err, task: hash }, 'watched task not readable')
    }
  }
}

function remember(set: Set<string>, value: string): void {
  set.add(value)
  if (set.size > MEMORY_LIMIT) set.delete(set.values().next().value!)
}
