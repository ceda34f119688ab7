/**
 * What parking a generation costs on one engine (issue 58, point 2), for the runner to weigh against
 * the time the generation has left (preemption.ts): from asking the park until its slot is given back
 * (its stream left, its slot saved), plus the restore once it holds a slot again. A running estimate,
 * each park measured adding a fifth of its difference; until the first, DEFAULT_PARK_MS.
 */

/**
 * Before any park on the engine: about what one took on the 2-core build machine in `npm run bench
 * priority` (p50 90-146 ms: a small model's slot saved and restored through the file system, the
 * engine's answers to /slots between, an idle slot waited for).
 */
export const DEFAULT_PARK_MS = 100
const WEIGHT = 0.2

export class ParkCost {
  #ms = DEFAULT_PARK_MS
  #measured = false

  get ms(): number {
    return this.#ms
  }

  /** One park's cost, measured (ms). */
  note(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return
    this.#ms = this.#measured ? this.#ms + WEIGHT * (ms - this.#ms) : ms
    this.#measured = true
  }
}
