/**
 * The requester's part of a visit to one of its own tasks: assigns the best claims, reassigns on a
 * lost lease or a failed result, and issues the receipt (./requester-plan.ts decides each step),
 * asking the policies first and passing over barred agents, holders of a model file that crashed
 * an earlier attempt, and, for a salted task, peers that do not read salts. A task that runs on a model goes straight to this host when it is the best
 * place for it.
 */
import { type ClaimSnapshot, currentAssignments, type TaskState } from '../../zomes-bindings/index.ts'
import { crashedModelFiles } from '../inference/model-errors.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { MeshVersions } from '../interface/release.ts'
import type { PoliciesPort } from '../policy/policies-port.ts'
import { taskQuestion } from '../policy/run-question.ts'
import { nowMicros } from '../runtime/clock.ts'
import { claimsDecide, FILL_WINDOWS } from './claimant-plan.ts'
import type { ClaimantRole } from './claimant-role.ts'
import type { HeldPayloads } from './held-payloads.ts'
import type { KnownNodes } from './known-nodes.ts'
import { attemptLiveUntil, type PlanOptions, planRequester } from './requester-plan.ts'
import type { TaskReadModel } from './task-read-model.ts'
import type { TaskWrites } from './task-writes.ts'

export interface RequesterRoleInit {
  me: string
  conductor: Pick<ConductorPort, 'callZome'>
  policies: Pick<PoliciesPort, 'decide'>
  /** Agents never given work (revoked from the mesh). */
  barred?: (agent: string) => boolean
  /** What each peer speaks: a salted task goes to none that reads no salts. */
  versions?: Pick<MeshVersions, 'of'>
  nodes: KnownNodes
  model: TaskReadModel
  writes: TaskWrites
  claimant: ClaimantRole
  /** Asked at each plan: it lengthens once claims are seen by polling (claim-window.ts). */
  claimWindowMs: () => number
  leaseGraceMs: number
  /** The outputs assignees gave this host, or their keys (the Results name them by hash). */
  payloads: HeldPayloads
  /** Sends a task's input to the agent just assigned it (payload-exchange.ts), so it need not ask. */
  giveInput?: (task: TaskState['task'], assignee: string) => Promise<void>
  /** When an attempt's assignee last said it is running it (ms; ./attempt-pulse.ts): it keeps the lease alive. */
  heardAt?: (assignment: string, assignee: string) => number | undefined
  /** Asks an assignee again for the output its ok Result names, until `untilMs` (payload-exchange.ts). */
  askOutput?: (task: string, assignment: string, assignee: string, untilMs: number) => Promise<void>
}

interface Memo {
  /** Whether this host looked at assigning the task to itself at once. */
  selfTried: boolean
  firstClaimSeenAt: number | null
  /** Claimants a policy refused as assignees. */
  refused: Set<string>
}

export class RequesterRole {
  readonly #init: RequesterRoleInit
  readonly #memos = new Map<string, Memo>()

  constructor(init: RequesterRoleInit) {
    this.#init = init
  }

  /** Takes the next steps for one of this host's tasks; true when it wrote something. */
  async step(state: TaskState, snapshot: ClaimSnapshot | null): Promise<boolean> {
    const { nodes, writes, leaseGraceMs } = this.#init
    const claimWindowMs = this.#init.claimWindowMs()
    const hash = state.task.action_hash
    let memo = this.#memos.get(hash)
    if (memo === undefined) {
      memo = { selfTried: false, firstClaimSeenAt: null, refused: new Set() }
      this.#memos.set(hash, memo)
    }
    if (snapshot && (await this.#assignSelfIfBest(state, snapshot, memo))) return true
    const now = nowMicros()
    if (memo.firstClaimSeenAt === null && state.claims.length > 0) memo.firstClaimSeenAt = now
    const capable = await nodes.capableNodes(state.task)
    const options: PlanOptions = {
      now,
      claimWindowMs,
      leaseGraceMs,
      firstClaimSeenAt: memo.firstClaimSeenAt,
      claimsIn: state.assignments.length === 0 && claimsDecide(state, capable, memo.refused),
      fillWindowMs: claimWindowMs * FILL_WINDOWS,
      refused: memo.refused,
      capable: capable.map((n) => n.author),
      outputs: await this.#outputs(state),
      heard: this.heard(state),
    }
    this.#askMissingOutputs(state, options)
    // The plan takes one step at a time; re-planning after each assignment gives every slot of a
    // fan-out its claimant in this one visit.
    let wrote = false
    for (;;) {
      const step = planRequester(state, options)
      if (step.kind === 'receipt') {
        await writes.receipt(step.receipt)
        return true
      }
      if (step.kind !== 'assign') return wrote
      const claimant = step.claim.author
      const passOver =
        this.#init.barred?.(claimant) ||
        (await this.#holdsCrashedFile(state, claimant)) ||
        (await this.#readsNoSalt(state, claimant))
      if (passOver) {
        memo.refused.add(claimant)
        continue
      }
      if (!(await this.#mayAssign(state, claimant, step.claim.entry.snapshot))) {
        memo.refused.add(claimant)
        continue
      }
      await writes.assign({
        task: hash,
        claim: step.claim.action_hash,
        assignee: claimant,
        slot: step.slot,
        attempt: step.attempt,
        lease_expires_at: nowMicros() + state.task.entry.lease_ms * 1000,
      })
      void this.#init.giveInput?.(state.task, claimant)
      wrote = true
      const next = await this.#init.model.get(hash)
      if (next === null) return wrote
      state = next
    }
  }

  /**
   * The outputs this host holds of the task's ok results (it keeps what their assignees gave it; one
   * sealed on IPFS is fetched and opened with the key given).
   */
  async #outputs(state: TaskState): Promise<Map<string, unknown>> {
    const outputs = new Map<string, unknown>()
    for (const { entry } of state.results) {
      if (entry.status !== 'ok') continue
      const output = await this.#init.payloads.get(entry.output_hash, entry.output_cid)
      if (output !== undefined) outputs.set(entry.output_hash, output)
    }
    return outputs
  }

  /** When the current attempts' assignees were last heard running them (microseconds). */
  heard(state: TaskState): Map<string, number> {
    const heard = new Map<string, number>()
    for (const a of currentAssignments(state.assignments)) {
      const atMs = this.#init.heardAt?.(a.action_hash, a.entry.assignee)
      if (atMs !== undefined) heard.set(a.action_hash, atMs * 1000)
    }
    return heard
  }

  /** Asks for the outputs of the ok Results of live attempts that never reached this host. */
  #askMissingOutputs(state: TaskState, options: PlanOptions): void {
    const ask = this.#init.askOutput
    if (ask === undefined) return
    for (const a of currentAssignments(state.assignments)) {
      const result = state.results.find((r) => r.entry.assignment === a.action_hash)
      if (result?.entry.status !== 'ok' || options.outputs.has(result.entry.output_hash)) continue
      void ask(state.task.action_hash, a.action_hash, a.entry.assignee, attemptLiveUntil(a, options) / 1000)
    }
  }

  /** When this host first saw a claim on its task (microseconds), or null. */
  firstClaimSeenAt(hash: string): number | null {
    return this.#memos.get(hash)?.firstClaimSeenAt ?? null
  }

  /** Policies changed: claimants they refused may be allowed now. */
  reconsider(): void {
    for (const memo of this.#memos.values()) memo.refused.clear()
  }

  forget(hash: string): void {
    this.#memos.delete(hash)
  }

  #mayAssign(state: TaskState, subject: string, snapshot: ClaimSnapshot): Promise<boolean> {
    const { me, policies } = this.#init
    return policies
      .decide({ action: 'assign', subject, snapshot, run: taskQuestion(state.task), decidedBy: me })
      .then((verdict) => verdict.allowed)
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

  /**
   * Whether the task's input is salted and the claimant does not state it reads salts (entries/2): a
   * 0.1.0 peer that joined after the task was written would run the envelope as its input.
   */
  async #readsNoSalt(state: TaskState, claimant: string): Promise<boolean> {
    if ((this.#init.versions?.of(claimant)?.protocols.entries ?? 1) >= 2) return false
    return (await this.#init.payloads.saltOf(state.task.entry.input_hash)) !== null
  }

  /**
   * For a task that runs on a model, when this host is the best place for it (the model loaded here,
   * or here and fitting while no other capable peer has it loaded): claims and assigns it to itself
   * at once, without waiting a claim window for claims from elsewhere. Once per task; a task that
   * fans out needs other peers, and goes the usual way.
   */
  async #assignSelfIfBest(state: TaskState, snapshot: ClaimSnapshot, memo: Memo): Promise<boolean> {
    const { me, nodes, claimant, writes } = this.#init
    const { task } = state
    if (memo.selfTried || state.assignments.length > 0 || task.entry.fan_out !== 1) return false
    if (!nodes.needsModel(task.entry)) return false
    memo.selfTried = true
    const placement = await claimant.placement(task.entry, snapshot)
    if (!('model' in placement)) return false
    if (!placement.loaded) {
      const capable = new Set(await nodes.capable(task))
      const elsewhere = (await nodes.list()).some(
        (n) =>
          n.author !== me &&
          capable.has(n.author) &&
          n.entry.inference.models.some((m) => m.name === placement.model && m.loaded),
      )
      if (elsewhere) return false
    }
    const claim = state.claims.find((c) => c.author === me) ?? (await claimant.claim(state, snapshot))
    if (claim === null || !(await this.#mayAssign(state, me, snapshot))) return false
    await writes.assign({
      task: task.action_hash,
      claim: claim.action_hash,
      assignee: me,
      slot: 0,
      attempt: 1,
      lease_expires_at: nowMicros() + task.entry.lease_ms * 1000,
    })
    return true
  }
}
