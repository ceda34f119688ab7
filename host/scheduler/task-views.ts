/**
 * A task as people see it (`ripple task show`, `--wait`, the API): its records, the policy decisions
 * about it (found by the task, however old), and for a task nobody claimed, why, as far as this host
 * can tell, and whether waiting longer can help: once every capable peer has had its chance to claim
 * (or no known peer is capable at all), it cannot.
 */
import type {
  Decision,
  EntryRecord,
  NodeCapability,
  TaskState,
  TaskStatus,
} from '../../zomes-bindings/index.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import { nowMicros } from '../runtime/clock.ts'
import type { WorkersPort } from '../workers/workers-port.ts'
import type { HeldPayloads } from './held-payloads.ts'
import { claimSnapshotOf, whyNoNodeQualifies } from './requirements.ts'

/** A task as `ripple task show` presents it. */
export interface TaskView {
  /** The records, with `status` as this host knows it (`running` once the assignee said it started). */
  state: TaskState
  /** For a task no node has claimed: why, as far as this host can tell. */
  why_unclaimed: string | null
  /**
   * True when no peer will claim the task: none known is capable, or every capable one had its chance
   * and none claimed. Waiting longer will not help (callers fail fast with `why_unclaimed`).
   */
  unclaimable: boolean
  /** Policy decisions recorded about this task, newest first. */
  decisions: EntryRecord<Decision>[]
  /**
   * The content only a task's two parties hold: its input (null where not held) and its ok results'
   * outputs by result (on the requester, and on the assignee that produced each), those sealed on IPFS
   * opened with the key held here. Every other peer holds their hashes (and sealed bytes) only.
   */
  payloads: { input: unknown; outputs: Record<string, unknown> }
}

/** Why a task waits unclaimed, and whether it is hopeless. */
export interface Unclaimed {
  reason: string
  unclaimable: boolean
}

export interface TaskViewsInit {
  conductor: Pick<ConductorPort, 'callZome'>
  workers: WorkersPort
  knownNodes: () => Promise<Pick<EntryRecord<NodeCapability>, 'entry'>[]>
  /** The inputs and outputs this host keeps, or their keys (a task's two parties only). */
  payloads: HeldPayloads
  /** How long claims are gathered: a task unclaimed for less is not said to wait. */
  claimWindowMs: () => number
  /** From submission, how long until every capable node has had its chance to claim. */
  fillWindowMs: () => number
}

export class TaskViews {
  readonly #init: TaskViewsInit

  constructor(init: TaskViewsInit) {
    this.#init = init
  }

  async view(state: TaskState, status: TaskStatus): Promise<TaskView> {
    const decisions = await this.#decisions(state.task.action_hash)
    const unclaimed = await this.#unclaimed(state, status, decisions)
    return {
      state: { ...state, status },
      why_unclaimed: unclaimed?.reason ?? null,
      unclaimable: unclaimed?.unclaimable ?? false,
      decisions,
      payloads: await this.#payloads(state),
    }
  }

  async #payloads(state: TaskState): Promise<TaskView['payloads']> {
    const { payloads } = this.#init
    const { input_hash, input_cid } = state.task.entry
    const input = await payloads.get(input_hash, input_cid)
    const outputs: Record<string, unknown> = {}
    for (const { action_hash, entry } of state.results) {
      if (entry.status !== 'ok') continue
      const output = await payloads.get(entry.output_hash, entry.output_cid)
      if (output !== undefined) outputs[action_hash] = output
    }
    return { input: input ?? null, outputs }
  }

  /**
   * For a task waiting with no claim for longer than a claim window (or hopeless sooner): why, and
   * whether it is hopeless; null otherwise.
   */
  async waiting(state: TaskState, status: TaskStatus): Promise<Unclaimed | null> {
    if (status !== 'submitted') return null
    const unclaimed = await this.#unclaimed(state, status, await this.#decisions(state.task.action_hash))
    const age = nowMicros() - state.task.timestamp
    return unclaimed?.unclaimable || age >= this.#init.claimWindowMs() * 1000 ? unclaimed : null
  }

  #decisions(task: string): Promise<EntryRecord<Decision>[]> {
    return this.#init.conductor.callZome('policy_store', 'list_decisions', {
      subject: null,
      resource: `Task::"${task}"`,
      limit: 1000,
    })
  }

  async #unclaimed(
    state: TaskState,
    status: TaskStatus,
    decisions: EntryRecord<Decision>[],
  ): Promise<Unclaimed | null> {
    if (!(status === 'submitted' || (status === 'expired' && state.claims.length === 0))) return null
    const nodes = await this.#init.knownNodes()
    const requirements = state.task.entry.requirements
    const noneQualifies = whyNoNodeQualifies(
      requirements,
      nodes.map((n) => claimSnapshotOf(n.entry, 0)),
      this.#init.workers.get(state.task.entry.kind)?.needsModel === true,
    )
    const reasons = [
      noneQualifies ??
        `${nodes.length === 1 ? 'the only node meets' : `${nodes.length} nodes meet`} the requirements`,
    ]
    const denied = new Set(
      decisions.filter((d) => d.entry.action === 'claim' && !d.entry.allowed).map((d) => d.author),
    )
    if (denied.size > 0)
      reasons.push(`a policy denied the claim on ${denied.size} node${denied.size === 1 ? '' : 's'}`)
    if (this.#init.workers.get(state.task.entry.kind) === undefined) {
      reasons.push(`this host has no worker for kind ${state.task.entry.kind}`)
    }
    const hadItsChance = nowMicros() - state.task.timestamp >= this.#init.fillWindowMs() * 1000
    return {
      reason: reasons.join('; '),
      unclaimable:
        state.claims.length === 0 && ((noneQualifies !== null && nodes.length > 0) || hadItsChance),
    }
  }
}
