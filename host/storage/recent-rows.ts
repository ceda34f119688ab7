/**
 * A bounded cache of immutable rows by hash, for the few actions and entries read over and over (a
 * task's records by every visit, rules' dependencies, chain heads).
 */

/** A bounded map of rows by hash; when it is full, the row kept first is dropped. */
export class RecentRows<T> {
  readonly #rows = new Map<string, T>()

  constructor(readonly limit: number) {}

  get(key: string): T | undefined {
    return this.#rows.get(key)
  }

  keep(key: string, row: T): T {
    if (this.#rows.size >= this.limit) this.#rows.delete(this.#rows.keys().next().value!)
    this.#rows.set(key, row)
    return row
  }

  clear(): void {
    this.#rows.clear()
  }
}

/** A hash as a map key (latin1: one char per byte, no encoding work). */
export function rowKey(hash: Uint8Array): string {
  return Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('latin1')
}
