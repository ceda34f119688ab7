/**
 * Loads that several callers may wait on at once (a task and a person loading the same model): the
 * first caller starts the load, later ones join it, and each gets the progress and has a signal of
 * its own. A caller that aborts stops waiting at once; the load itself stops only when the last of
 * its callers gives up, as the one fetch of a CID does (ipfs/shared-fetch.ts): a load that another
 * caller still wants goes on.
 */
import type { LongOperationOptions, Progress } from '../interface/progress.ts'

interface Shared<T> {
  key: string
  promise: Promise<T>
  stop: AbortController
  callers: Set<LongOperationOptions>
}

export class SharedLoads<T> {
  /** The loads a new caller joins, by key. */
  readonly #joinable = new Map<string, Shared<T>>()
  /** Those, and the stopped ones still ending. */
  readonly #running = new Set<Shared<T>>()

  /** Joins the load of `key` under way, else starts one with `start` (given its own signal and progress). */
  join(
    key: string,
    options: LongOperationOptions,
    start: (options: Required<LongOperationOptions>) => Promise<T>,
  ): Promise<T> {
    if (options.signal?.aborted) return Promise.reject(options.signal.reason)
    // Its own entry (two callers may pass the same options), there before the start reports anything.
    const caller = { ...options }
    let shared = this.#joinable.get(key)
    if (!shared) {
      const stop = new AbortController()
      const callers = new Set<LongOperationOptions>([caller])
      const onProgress = (progress: Progress) => {
        for (const caller of callers) caller.onProgress?.(progress)
      }
      const started: Shared<T> = { key, promise: start({ signal: stop.signal, onProgress }), stop, callers }
      started.promise
        .finally(() => {
          if (this.#joinable.get(key) === started) this.#joinable.delete(key)
          this.#running.delete(started)
        })
        .catch(() => {})
      this.#joinable.set(key, started)
      this.#running.add(started)
      shared = started
    }
    return this.#wait(shared, caller)
  }

  /** Resolves once the loads of `key` (default: all) have ended, however they did. */
  async settled(key?: string): Promise<void> {
    const loads = [...this.#running].filter((s) => key === undefined || s.key === key)
    await Promise.allSettled(loads.map((s) => s.promise))
  }

  #wait(shared: Shared<T>, caller: LongOperationOptions): Promise<T> {
    shared.callers.add(caller)
    const ended = shared.promise.finally(() => shared.callers.delete(caller))
    const { signal } = caller
    if (!signal) return ended
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        shared.callers.delete(caller)
        if (shared.callers.size > 0) return reject(signal.reason)
        if (this.#joinable.get(shared.key) === shared) this.#joinable.delete(shared.key)
        shared.stop.abort(signal.reason)
        // Answered once the load has ended: nothing of it (a half-started process) is left by then.
        const answer = () => reject(signal.reason)
        shared.promise.then(answer, answer)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      // An aborted caller is answered by onAbort, even when the load ended well in the meantime.
      ended
        .then(
          (value) => {
            if (!signal.aborted) resolve(value)
          },
          (err: unknown) => {
            if (!signal.aborted) reject(err)
          },
        )
        .finally(() => signal.removeEventListener('abort', onAbort))
    })
  }
}
