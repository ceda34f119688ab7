/**
 * The scheduler's writes about a task: each zome call, then the record it wrote applied to the read
 * model as written (never read back).
 */
import type {
  Assignment,
  Cancellation,
  Claim,
  ClaimSnapshot,
  EntryRecord,
  Receipt,
  RecordRef,
  TaskResult,
} from '../../zomes-bindings/index.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { Logger } from '../log/logger.ts'
import { nowMicros } from '../runtime/clock.ts'
import type { TaskReadModel } from './task-read-model.ts'

export class TaskWrites {
  readonly #conductor: Pick<ConductorPort, 'callZome' | 'agentPubKey'>
  readonly #model: TaskReadModel
  readonly #log: Logger

  constructor(init: {
    conductor: Pick<ConductorPort, 'callZome' | 'agentPubKey'>
    model: TaskReadModel
    logger: Logger
  }) {
    this.#conductor = init.conductor
    this.#model = init.model
    this.#log = init.logger
  }

  async claim(task: string, snapshot: ClaimSnapshot): Promise<EntryRecord<Claim>> {
    const claim = { task, snapshot }
    const record = this.#own(await this.#conductor.callZome('resource_mesh', 'claim_task', claim), claim)
    this.#model.apply(task, { field: 'claims', record })
    this.#log.debug({ task }, 'claimed')
    return record
  }

  async assign(assignment: Assignment): Promise<void> {
    const ref = await this.#conductor.callZome('resource_mesh', 'assign_task', assignment)
    this.#model.apply(assignment.task, { field: 'assignments', record: this.#own(ref, assignment) })
    const { task, slot, attempt, assignee } = assignment
    this.#log.debug({ task, slot, attempt, assignee }, 'assigned')
  }

  async result(result: TaskResult): Promise<RecordRef> {
    const ref = await this.#conductor.callZome('resource_mesh', 'post_result', result)
    this.#model.apply(result.task, { field: 'results', record: this.#own(ref, result) })
    this.#log.debug({ task: result.task, status: result.status }, 'result posted')
    return ref
  }

  async receipt(receipt: Receipt): Promise<void> {
    const ref = await this.#conductor.callZome('resource_mesh', 'issue_receipt', receipt)
    this.#model.apply(receipt.task, { field: 'receipt', record: this.#own(ref, receipt) })
    this.#log.debug({ task: receipt.task, accepted: receipt.accepted }, 'receipt issued')
  }

  async cancel(cancellation: Cancellation): Promise<RecordRef> {
    const ref = await this.#conductor.callZome('resource_mesh', 'cancel_task', cancellation)
    this.#model.apply(cancellation.task, { field: 'cancellation', record: this.#own(ref, cancellation) })
    return ref
  }

  /** A record this host just wrote, as the read model holds it. */
  #own<T>(ref: RecordRef, entry: T): EntryRecord<T> {
    return {
      action_hash: ref.action_hash,
      author: this.#conductor.agentPubKey,
      timestamp: nowMicros(),
      entry,
    }
  }
}
