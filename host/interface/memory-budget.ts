/**
 * The one owner of the memory promised on this peer: the models loaded here reserve theirs, the
 * shares this peer's RPC worker holds for others' splits and the shared memory's shard indexes stand
 * as claims, and the registry reads what is left for the capability and heartbeats it advertises.
 * With a limit (`--model-memory`) a promise past it is refused, naming who holds the memory; without
 * one, what the machine has free is the bound (a model loaded takes from it already). Pure: the
 * machine's free memory is handed in.
 */
import type { BudgetPort, Reservation } from './budget-port.ts'
import type { Failure } from './failure-kind.ts'

export interface MemoryBudgetInit {
  /** The most memory promised here may take (`--model-memory`); unset: all that is free. */
  limitBytes?: number
  /** What the machine has free now (os.freemem). */
  freeMemory: () => number
}

/** Thrown when a promise would pass the limit: what was asked, what is free and who holds the rest. */
export class MemoryOverBudgetError extends Error {
  static override readonly name = 'MemoryOverBudgetError'
  // Memory held now may be given back later: a condition, not a bad request.
  readonly failureKind: Failure = 'unavailable/no_room'
  constructor(
    readonly holder: string,
    readonly askedBytes: number,
    readonly freeBytes: number,
    readonly holders: readonly { holder: string; bytes: number }[],
  ) {
    const held = holders.map((h) => `${h.holder} (${mib(h.bytes)})`).join(', ') || 'nothing'
    super(`cannot promise ${mib(askedBytes)} to ${holder}: ${mib(freeBytes)} free; held by ${held}`)
    this.name = 'MemoryOverBudgetError'
  }
}

const mib = (bytes: number) => `${Math.ceil(bytes / 1024 ** 2)} MiB`

export class MemoryBudget implements BudgetPort {
  readonly limitBytes: number | undefined
  readonly #freeMemory: () => number
  readonly #reserved = new Map<symbol, { holder: string; bytes: number }>()
  readonly #claims = new Map<symbol, { holder: string; read: () => number }>()

  constructor(init: MemoryBudgetInit) {
    this.limitBytes = init.limitBytes
    this.#freeMemory = init.freeMemory
  }

  /** Memory that may still be promised: what is free, within the limit less what is promised. */
  free(): number {
    if (this.limitBytes === undefined) return this.#freeMemory()
    return Math.max(0, Math.min(this.#freeMemory(), this.limitBytes - this.promised()))
  }

  /** Memory promised now: reservations and standing claims. */
  promised(): number {
    return this.holders().reduce((sum, h) => sum + h.bytes, 0)
  }

  /** Who holds memory here now, and how much. */
  holders(): { holder: string; bytes: number }[] {
    return [
      ...this.#reserved.values(),
      ...[...this.#claims.values()].map(({ holder, read }) => ({ holder, bytes: read() })),
    ].filter((h) => h.bytes > 0)
  }

  /** Promises `bytes` to `holder`; MemoryOverBudgetError when a limit is set and they are not free. */
  reserve(holder: string, bytes: number): Reservation {
    const free = this.free()
    if (this.limitBytes !== undefined && bytes > free)
      throw new MemoryOverBudgetError(holder, bytes, free, this.holders())
    const key = Symbol(holder)
    const entry = { holder, bytes }
    this.#reserved.set(key, entry)
    return {
      get bytes() {
        return entry.bytes
      },
      settle: (settled) => {
        entry.bytes = settled
      },
      release: () => {
        this.#reserved.delete(key)
      },
    }
  }

  /**
   * A standing claim whose size its holder says when asked (the split shares other peers' heartbeats
   * say this peer holds, which end when their head goes offline). Answers its withdrawal.
   */
  claim(holder: string, read: () => number): () => void {
    const key = Symbol(holder)
    this.#claims.set(key, { holder, read })
    return () => this.#claims.delete(key)
  }
}
