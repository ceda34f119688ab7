/**
 * The claimant's part of a visit: whether this host claims an open task (./claimant-plan.ts decides,
 * from where the task would run here and which nodes could run it), and the policy's word before it
 * does. A task it declined is left alone for a while.
 */
import type { Claim, ClaimSnapshot, EntryRecord, Task, TaskState } from '../../zomes-bindings/index.ts'
import type { Logger } from '../log/logger.ts'
import type { PoliciesPort } from '../policy/policies-port.ts'
import { taskQuestion } from '../policy/run-question.ts'
import { nowMicros } from '../runtime/clock.ts'
import type { Placement } from '../workers/worker.ts'
import type { WorkersPort } from '../workers/workers-port.ts'
import { planClaimant } from './claimant-plan.ts'
import type { KnownNodes } from './known-nodes.ts'
import { unmetRequirement } from './requirements.ts'
import type { TaskPayloads } from './task-payloads.ts'
import { isTerminal } from './task-watch.ts'
import type { TaskWrites } from './task-writes.ts'

export interface ClaimantRoleInit {
  me: string
  workers: WorkersPort
  policies: Pick<PoliciesPort, 'decide'>
  payloads?: TaskPayloads
  nodes: KnownNodes
  writes: TaskWrites
  /** Asked at each plan (claim-window.ts). */
  claimWindowMs: () => number
  /** A declined task is looked at again after this long. */
  declineMs: number
  /** Whether this host is behind on its visits (see ClaimantInput.behind). */
  behind: () => boolean
  logger: Logger
}

export class ClaimantRole {
  readonly #init: ClaimantRoleInit
  /** Open tasks this host declined, until when (ms). */
  readonly #declined = new Map<string, number>()
  /** Open tasks the plan said to look at again at a time of its own (microseconds). */
  readonly #lookAgain = new Map<string, number>()

  constructor(init: ClaimantRoleInit) {
    this.#init = init
  }

  /** Claims the task if this host should; true when it wrote a claim. */
  async step(state: TaskState, snapshot: ClaimSnapshot): Promise<boolean> {
    const { me } = this.#init
    const hash = state.task.action_hash
    if ((this.#declined.get(hash) ?? 0) > Date.now()) return false
    // Placing a task (a model's fit) costs more than seeing there is nothing to do.
    if (isTerminal(state.status) || state.claims.some((c) => c.author === me)) return false
    const placement = await this.placement(state.task.entry, snapshot)
    const step = planClaimant(state, {
      me,
      now: nowMicros(),
      cannotRun: 'cannot' in placement ? placement.cannot : null,
      capable: await this.#init.nodes.capableNodes(state.task),
      snapshot,
      claimWindowMs: this.#init.claimWindowMs(),
      behind: this.#init.behind(),
    })
    if (step.kind === 'hold' && step.until !== null) this.#lookAgain.set(hash, step.until)
    else this.#lookAgain.delete(hash)
    if (step.kind === 'decline') {
      this.#decline(hash)
      this.#init.logger.debug({ task: hash, reason: step.reason }, 'declined')
    }
    return step.kind === 'claim' && (await this.claim(state, snapshot)) !== null
  }

  /** Claims the task if the policies allow; answers the claim written, or null (declined). */
  async claim(state: TaskState, snapshot: ClaimSnapshot): Promise<EntryRecord<Claim> | null> {
    const { me, policies, writes } = this.#init
    const verdict = await policies.decide({
      action: 'claim',
      subject: me,
      snapshot,
      run: taskQuestion(state.task),
      decidedBy: me,
    })
    if (!verdict.allowed) {
      this.#decline(state.task.action_hash)
      return null
    }
    return writes.claim(state.task.action_hash, snapshot)
  }

  /** Where this host would run a task (a worker's placement, or anywhere), or why it cannot. */
  async placement(task: Task, snapshot: ClaimSnapshot): Promise<Placement | { anywhere: true }> {
    const worker = this.#init.workers.get(task.kind)
    if (worker === undefined) return { cannot: `no worker for kind ${task.kind}` }
    if (task.input_cid !== null && this.#init.payloads === undefined)
      return { cannot: 'this host fetches no inputs from IPFS' }
    const unmet = unmetRequirement(task.requirements, snapshot, worker.needsModel === true)
    if (unmet !== null) return { cannot: `this node has ${unmet}` }
    // The input stays with the requester: the attempt checks it once given; placed by the model named.
    return worker.place ? worker.place(task.requirements.model ?? undefined) : { anywhere: true }
  }

  /** Until when (microseconds) this host leaves the task alone, or null. */
  declinedUntil(hash: string): number | null {
    const until = this.#declined.get(hash)
    return until === undefined ? null : until * 1000
  }

  /** Policies changed: what was declined may be allowed now. */
  reconsider(): void {
    this.#declined.clear()
  }

  /** When the plan said to look at the task again (microseconds), or null. */
  lookAgainAt(hash: string): number | null {
    return this.#lookAgain.get(hash) ?? null
  }

  forget(hash: string): void {
    this.#declined.delete(hash)
    this.#lookAgain.delete(hash)
  }

  #decline(hash: string): void {
    this.#declined.set(hash, Date.now() + this.#init.declineMs)
  }
}
