/** What ingest (op-ingest.ts, held-ingest.ts) made of the ops it was given. */
import type { StoredAction } from '../../../storage/chain-store.ts'
import type { Cell } from '../cell.ts'
import type { WireOp } from './op-wire.ts'

export type OpOutcome = 'stored' | 'duplicate' | 'ignored' | 'pending' | 'rejected'

export interface IngestResult {
  /** Actions stored, this batch's and earlier pending ones it unblocked, in store order. */
  stored: StoredAction[]
  /** How each op of the batch ended, and each earlier pending op that stopped waiting. */
  counts: Record<OpOutcome, number>
  /** Some op waits for predecessors or dependencies: the sender should be asked what we miss. */
  waiting: boolean
  /**
   * Held ops (and, sharded, chain ops) whose rules read records not held here: got from their holders,
   * then `receiveHeld`.
   */
  needs: HeldNeed[]
}

/** A held op waiting for what its rules read (`needs`, action hashes B64) to be got from holders. */
export interface HeldNeed {
  cell: Cell
  op: WireOp
  sender: Uint8Array | null
  needs: readonly string[]
  /** An op of a chain this peer keeps: judged again in its chain, not held. */
  chain?: boolean
}

export const emptyResult = (): IngestResult => ({
  stored: [],
  counts: { stored: 0, duplicate: 0, ignored: 0, pending: 0, rejected: 0 },
  waiting: false,
  needs: [],
})
