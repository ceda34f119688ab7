/**
 * What the services ask of the memory promised on this peer (./memory-budget.ts keeps it): the
 * models reserve theirs, split shares and shard indexes stand as claims, the registry reads what is
 * left.
 */

/** A promise of memory, held until released; its size may be settled once the holder knows it. */
export interface Reservation {
  readonly bytes: number
  /** Records what the holder took in the end (an engine's estimate once started); never refused. */
  settle(bytes: number): void
  release(): void
}

export interface BudgetPort {
  /** The most memory promised here may take (`--model-memory`); undefined: all that is free. */
  readonly limitBytes: number | undefined
  /** Memory that may still be promised. */
  free(): number
  /** Promises `bytes` to `holder`; MemoryOverBudgetError when a limit is set and they are not free. */
  reserve(holder: string, bytes: number): Reservation
  /** A standing claim whose size its holder says when asked; answers its withdrawal. */
  claim(holder: string, read: () => number): () => void
}
