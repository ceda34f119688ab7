/**
 * One timer per open task, set for its next moment that no op announces (./task-moments.ts): when it
 * fires, the task is visited. Unref'd: the timers alone keep no process alive.
 */
export class TaskTimers {
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #onDue: (hash: string) => void

  constructor(onDue: (hash: string) => void) {
    this.#onDue = onDue
  }

  /** Replaces the task's timer with one for `at` (microseconds since the epoch, after `now`), or none. */
  set(hash: string, at: number | null, now: number): void {
    this.clear(hash)
    if (at === null) return
    const timer = setTimeout(
      () => {
        this.#timers.delete(hash)
        this.#onDue(hash)
      },
      Math.ceil((at - now) / 1000) + 1,
    )
    timer.unref()
    this.#timers.set(hash, timer)
  }

  clear(hash: string): void {
    clearTimeout(this.#timers.get(hash))
    this.#timers.delete(hash)
  }

  clearAll(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
  }
}
