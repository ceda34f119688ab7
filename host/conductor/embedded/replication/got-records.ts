/**
 * Records got from holders, kept by DNA and action hash (issue 57's idle cost): an action and its entry
 * never change, so a record asked again (a sharded peer's registry reads every far capability each 30 s)
 * is answered from here, not by a holder, and not checked again. What targets it (updates, deletes) and
 * the links on a base do change: those are asked each time. Bounded by bytes, the least recently used
 * dropped first. Not the store: where records live and what this peer serves are unchanged.
 */

/** Bytes of records kept: a mesh's capabilities, the tasks and batches a peer looked at lately. */
export const GOT_RECORDS_BYTES = 8 * 1024 * 1024

export class GotRecords<T> {
  readonly #kept = new Map<string, { value: T; bytes: number }>()
  readonly #maxBytes: number
  #bytes = 0

  constructor(maxBytes = GOT_RECORDS_BYTES) {
    this.#maxBytes = maxBytes
  }

  /** Bytes kept now. */
  get bytes(): number {
    return this.#bytes
  }

  get(key: string): T | undefined {
    const kept = this.#kept.get(key)
    if (kept === undefined) return undefined
    // Map order is the recency order: a hit moves to the end.
    this.#kept.delete(key)
    this.#kept.set(key, kept)
    return kept.value
  }

  /** Keeps `value` of `bytes`; one larger than the whole bound is not kept. */
  set(key: string, value: T, bytes: number): void {
    this.delete(key)
    if (bytes > this.#maxBytes) return
    this.#kept.set(key, { value, bytes })
    this.#bytes += bytes
    for (const [oldest, { bytes: size }] of this.#kept) {
      if (this.#bytes <= this.#maxBytes) break
      this.#kept.delete(oldest)
      this.#bytes -= size
    }
  }

  delete(key: string): void {
    const kept = this.#kept.get(key)
    if (kept === undefined) return
    this.#kept.delete(key)
    this.#bytes -= kept.bytes
  }
}
