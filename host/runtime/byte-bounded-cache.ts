/** Values held in memory up to a total size in bytes, the oldest let go first. */
export class ByteBoundedCache<V> {
  readonly #maxBytes: number
  readonly #held = new Map<string, { value: V; bytes: number }>()
  #bytes = 0

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  get(key: string): V | undefined {
    return this.#held.get(key)?.value
  }

  /** Holds `value` under `key` (replacing what was there) as `bytes`, letting go of the oldest beyond the size. */
  set(key: string, value: V, bytes: number): void {
    this.delete(key)
    this.#held.set(key, { value, bytes })
    this.#bytes += bytes
    for (const [oldest, held] of this.#held) {
      if (this.#bytes <= this.#maxBytes) break
      this.#held.delete(oldest)
      this.#bytes -= held.bytes
    }
  }

  delete(key: string): void {
    const held = this.#held.get(key)
    if (held === undefined) return
    this.#held.delete(key)
    this.#bytes -= held.bytes
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes
  }
}
