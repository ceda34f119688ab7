/**
 * Received ops that came too early (a gap in their author's chain, a dependency not held yet), held
 * by chain and seq until what they build on is stored. Bounded: beyond `max` ops they are dropped,
 * and catch-up brings them again later.
 */
import { hashesEqual } from '../../../identity/hash.ts'
import type { ChainHead } from '../../../storage/chain-store.ts'
import type { Cell } from '../cell.ts'
import { chainKey } from './chain-key.ts'
import type { WireOp } from './op-wire.ts'

/** An op that waits for what comes before it in its chain, or for a dependency; its signature verified. */
export interface PendingOp {
  op: WireOp
  sender: Uint8Array | null
}

/** The waiting ops of one author's chain in one DNA, by seq. */
interface PendingChain {
  cell: Cell
  author: Uint8Array
  ops: Map<number, PendingOp>
}

export class PendingOps {
  readonly #chains = new Map<string, PendingChain>()
  #count = 0

  constructor(readonly max: number) {}

  /** Ops waiting now. */
  get size(): number {
    return this.#count
  }

  /** Holds `pending` as the op at `seq` of `author`'s chain (replacing one held there), room permitting. */
  hold(cell: Cell, author: Uint8Array, seq: number, pending: PendingOp): void {
    const key = chainKey(cell.dnaHash, author)
    const chain = this.#chains.get(key) ?? { cell, author, ops: new Map<number, PendingOp>() }
    if (!chain.ops.has(seq)) {
      if (this.#count >= this.max) return
      this.#count++
    }
    chain.ops.set(seq, pending)
    this.#chains.set(key, chain)
  }

  /**
   * Hands `ingest`, until nothing moves, the waiting op that is next on each chain (after the head
   * `headOf` answers); `ingest` says whether it stored the op, which may unblock the next.
   */
  retry(
    headOf: (cell: Cell, author: Uint8Array) => ChainHead | null,
    ingest: (cell: Cell, pending: PendingOp) => boolean,
  ): void {
    let progress = true
    while (progress) {
      progress = false
      for (const [key, chain] of this.#chains) {
        const head = headOf(chain.cell, chain.author)
        const next = head === null ? 0 : head.seq + 1
        for (const seq of chain.ops.keys()) {
          // Stored meanwhile by another route.
          if (seq < next) this.#forget(chain, seq)
        }
        const waiting = chain.ops.get(next)
        if (waiting !== undefined) {
          this.#forget(chain, next)
          if (ingest(chain.cell, waiting)) progress = true
        }
        if (chain.ops.size === 0 && this.#chains.get(key) === chain) this.#chains.delete(key)
      }
    }
  }

  /** Drops every op of `author`'s chains (warranted: none of them will be stored). */
  dropAuthor(author: Uint8Array): void {
    for (const [key, chain] of this.#chains) {
      if (!hashesEqual(chain.author, author)) continue
      this.#count -= chain.ops.size
      this.#chains.delete(key)
    }
  }

  #forget(chain: PendingChain, seq: number): void {
    if (chain.ops.delete(seq)) this.#count--
  }
}
