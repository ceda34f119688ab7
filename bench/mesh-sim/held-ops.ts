/**
 * A simulated peer's store of the record (issue 57): the ops it holds, in memory, read by hash as the
 * chain store reads them (what `record/1.0.0`'s server and a get's checks read). Light on purpose: a
 * thousand of them share one process; what SQLite adds per op is cover-cost's to measure.
 */
import { encodeHashB64 } from '../../host/identity/hash.ts'
import type { ChainStore, StoredAction, StoredEntry } from '../../host/storage/chain-store.ts'

/** What a held op says of itself to the controller: its hash, its author, when it was signed (µs). */
export type HeldOp = [hash: string, author: string, timestampUs: number]

export class HeldOps implements Pick<ChainStore, 'getAction' | 'getEntry'> {
  readonly #actions = new Map<string, StoredAction>()
  readonly #entries = new Map<string, StoredEntry>()

  getAction(hash: Uint8Array): StoredAction | null {
    return this.#actions.get(encodeHashB64(hash)) ?? null
  }

  getEntry(hash: Uint8Array): StoredEntry | null {
    return this.#entries.get(encodeHashB64(hash)) ?? null
  }

  has(hash: Uint8Array): boolean {
    return this.#actions.has(encodeHashB64(hash))
  }

  put(row: StoredAction, entry: StoredEntry | null): void {
    this.#actions.set(encodeHashB64(row.hash), row)
    if (entry !== null) this.#entries.set(encodeHashB64(entry.hash), entry)
  }

  list(): HeldOp[] {
    return [...this.#actions].map(([hash, row]) => [hash, encodeHashB64(row.author), row.timestamp])
  }
}
