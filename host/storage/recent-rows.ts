/**
 * A bounded cache of immutable rows by hash, for the few actions and entries read over and over (a
 * task's records by every visit, rules' dependencies, chain heads).
 */

/**
 * A bounded map of rows by hash, by count and by bytes (`sizeOf`): when either is passed, the rows kept
 * first are dropped. The bytes bound is what keeps large rows (a 1 MiB task payload per submit) from
 * being held by the thousand; a row larger than the bound alone is not kept at all.
 */
export class RecentRows<T> {
  readonly #rows = new Map<string, { row: T; bytes: number }>()
  #bytes = 0

  constructor(
    readonly limit: number,
    readonly maxBytes = Number.POSITIVE_INFINITY,
    readonly sizeOf: (row: T) => number = () => 0,
  ) {}

  get(key: string): T | undefined {
    return this.#rows.get(key)?.row
  }

  /** The bytes the kept rows hold, by `sizeOf`. */
  get bytes(): number {
    return this.#bytes
  }

  keep(key: string, row: T): T {
    const bytes = this.sizeOf(row)
    this.#drop(key)
    if (bytes > this.maxBytes) return row
    while (this.#rows.size > 0 && (this.#rows.size >= this.limit || this.#bytes + bytes > this.maxBytes))
      this.#drop(this.#rows.keys().next().value!)
    this.#rows.set(key, { row, bytes })
    this.#bytes += bytes
    return row
  }

  forget(key: string): void {
    this.#drop(key)
  }

  clear(): void {
    this.#rows.clear()
    this.#bytes = 0
  }

  #drop(key: string): void {
    const kept = this.#rows.get(key)
    if (kept === undefined) return
    this.#rows.delete(key)
    this.#bytes -= kept.bytes
  }
}

/** A hash as a map key (latin1: one char per byte, no encoding work). */
export function rowKey(hash: Uint8Array): string {
  return Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('latin1')
}
