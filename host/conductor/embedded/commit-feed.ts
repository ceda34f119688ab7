/**
 * Fans each commit of this agent out to listeners (the network layer publishes them as ops).
 * A failing listener is logged and never undoes or blocks the commit.
 */
import type { Record as HcRecord } from '@holochain/client'
import type { DnaName } from '../../../zomes-bindings/index.ts'
import type { Logger } from '../../log/logger.ts'
import type { Cell } from './cell.ts'
import { toRecord } from './record.ts'
import type { CommittedAction } from './source-chain.ts'

/** What one zome call committed in one cell, in chain order. */
export interface OpsCommittedEvent {
  dna: DnaName
  dnaHash: Uint8Array
  /** The stored actions and entries: the exact bytes, hashes and signatures peers verify. */
  actions: CommittedAction[]
  /** The same, as `@holochain/client` records. */
  records: HcRecord[]
}

export class CommitFeed {
  readonly #listeners = new Set<(event: OpsCommittedEvent) => void>()
  readonly #logger: Logger

  constructor(logger: Logger) {
    this.#logger = logger
  }

  subscribe(listener: (event: OpsCommittedEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  publish(cell: Cell, actions: CommittedAction[]): void {
    if (this.#listeners.size === 0) return
    const event: OpsCommittedEvent = {
      dna: cell.dna.name,
      dnaHash: cell.dnaHash,
      actions,
      records: actions.map((a) => toRecord(a.action, a.entry)),
    }
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch (err) {
        this.#logger.error({ err, dna: event.dna }, 'opsCommitted listener failed')
      }
    }
  }
}
