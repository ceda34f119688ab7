/**
 * The nodes this host knows (their advertised capabilities), read at most once a second however many
 * tasks ask, and which of them could run a task.
 */
import type { EntryRecord, NodeCapability, Task } from '../../zomes-bindings/index.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { WorkersPort } from '../workers/workers-port.ts'
import type { CapableNode } from './claimant-plan.ts'
import { claimSnapshotOf, unmetRequirement } from './requirements.ts'

const CACHE_MS = 1000

export class KnownNodes {
  readonly #conductor: Pick<ConductorPort, 'callZome'>
  readonly #workers: WorkersPort
  #read: { at: number; list: Promise<EntryRecord<NodeCapability>[]> } | null = null

  constructor(init: { conductor: Pick<ConductorPort, 'callZome'>; workers: WorkersPort }) {
    this.#conductor = init.conductor
    this.#workers = init.workers
  }

  list(): Promise<EntryRecord<NodeCapability>[]> {
    if (this.#read === null || Date.now() - this.#read.at > CACHE_MS) {
      const list = this.#conductor.callZome('agent_registry', 'list_nodes', null)
      this.#read = { at: Date.now(), list }
      // A failed read is not kept: the next ask tries again.
      list.catch(() => {
        if (this.#read?.list === list) this.#read = null
      })
    }
    return this.#read.list
  }

  /** The agents whose advertised capability meets the task's requirements. */
  async capable(task: Task): Promise<string[]> {
    return (await this.capableNodes(task)).map((n) => n.author)
  }

  /** The same, each with what it would claim with at best (its advertised capability, queue empty). */
  async capableNodes(task: Task): Promise<CapableNode[]> {
    const anyModel = this.needsModel(task)
    return (await this.list())
      .map((n) => ({ author: n.author, snapshot: claimSnapshotOf(n.entry, 0) }))
      .filter((n) => unmetRequirement(task.requirements, n.snapshot, anyModel) === null)
  }

  /** Whether the task's worker runs on a model (so a node needs some model to be capable). */
  needsModel(task: Task): boolean {
    return this.#workers.get(task.kind)?.needsModel === true
  }
}
