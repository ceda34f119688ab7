/**
 * When a list read from the record (the mesh's collections, its artifacts) is worth reading again:
 * once something said it changed (an op of its DNA stored here, this peer's own write), or once
 * `fallbackMs` passed since the last read (a missed wake-up; on a sharded peer, a change far from what
 * it holds). Read on a timer instead, every sharded peer asked the list's holders every few seconds
 * whether or not anything changed (issue 57's idle cost). `fallbackMs` 0: read every time asked.
 */
export class DueRead {
  readonly #fallbackMs: number
  readonly #now: () => number
  /** The read is due from this moment on; 0: now. */
  #dueAt = 0

  constructor(fallbackMs: number, now: () => number = Date.now) {
    this.#fallbackMs = fallbackMs
    this.#now = now
  }

  /** Something changed: the next `run` reads. */
  markStale(): void {
    this.#dueAt = 0
  }

  /**
   * Runs `read` when it is due. A change marked while it runs makes the next one read again (the read
   * may have missed it); a read that fails is due again at once.
   */
  async run(read: () => Promise<void>): Promise<void> {
    const now = this.#now()
    if (now < this.#dueAt) return
    this.#dueAt = now + this.#fallbackMs
    try {
      await read()
    } catch (err) {
      this.#dueAt = 0
      throw err
    }
  }
}
