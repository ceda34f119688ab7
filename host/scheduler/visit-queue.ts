/**
 * Which task the scheduler visits next: one visit per task at a time (a task touched during its visit
 * is visited once more after), a few tasks at once, oldest first, and tasks new to this host behind
 * the ones under way, so a burst finishes tasks as it goes instead of first claiming them all. A few
 * at once because the conductor runs zome calls one after another: hundreds of visits at once would
 * queue reads ahead of every write (and, synchronous underneath, hold the event loop until all ran).
 */
export class VisitQueue {
  readonly #visit: (task: string) => Promise<void>
  readonly #atOnce: number
  /** Tasks being visited; those touched meanwhile are visited once more after. */
  readonly #visiting = new Map<string, Promise<void>>()
  readonly #again = new Set<string>()
  /** Tasks waiting, in the order they were touched; tasks new here in a queue of their own. */
  readonly #queued = new Set<string>()
  readonly #queuedNew = new Set<string>()
  #stopped = false

  /** `visit` must not throw (it logs its own failures). */
  constructor(visit: (task: string) => Promise<void>, atOnce: number) {
    this.#visit = visit
    this.#atOnce = atOnce
  }

  /** Visits the task soon (once more after, if a visit is under way). */
  touch(task: string, isNew = false): void {
    if (this.#stopped) return
    if (this.#visiting.has(task)) this.#again.add(task)
    else if (!this.#queued.has(task)) (isNew ? this.#queuedNew : this.#queued).add(task)
    this.#pump()
  }

  /** Tasks waiting for a visit (not those being visited). */
  get waiting(): number {
    return this.#queued.size + this.#queuedNew.size
  }

  /** Starts nothing more; resolves once the visits under way ended. */
  async stop(): Promise<void> {
    this.#stopped = true
    await Promise.all(this.#visiting.values())
  }

  #pump(): void {
    while (this.#visiting.size < this.#atOnce && !this.#stopped) {
      const queue = this.#queued.size > 0 ? this.#queued : this.#queuedNew
      const task = queue.values().next().value
      if (task === undefined) return
      queue.delete(task)
      this.#queuedNew.delete(task)
      const run = (async () => {
        // Ops of one batch (and writes of one step) arrive in the same turn: one visit answers them all.
        await new Promise((resolve) => setImmediate(resolve))
        do {
          this.#again.delete(task)
          await this.#visit(task)
        } while (this.#again.has(task) && !this.#stopped)
      })().finally(() => {
        this.#visiting.delete(task)
        this.#pump()
      })
      this.#visiting.set(task, run)
    }
  }
}
