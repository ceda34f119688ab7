/**
 * The model topics this peer listens on (design 4e): those of the models it serves loaded (a runner
 * hears its fellow runners) and of the models it sent requests for lately (a requester hears their
 * runners' load news), each kept `USE_KEEP_MS` after its last use. Pure but for its own map.
 */

/** How long a requester keeps hearing a model's news after its last request for it. */
export const USE_KEEP_MS = 10 * 60_000

export class ModelInterest {
  readonly #used = new Map<string, number>()
  #joined = new Set<string>()

  /** A request for `model` was sent now. */
  use(model: string, now: number): void {
    this.#used.set(model, now)
  }

  /** The topics to join and to leave now, given the models loaded here; the joined set becomes the wanted one. */
  next(loaded: readonly string[], now: number): { join: string[]; leave: string[] } {
    for (const [model, at] of this.#used) if (now - at >= USE_KEEP_MS) this.#used.delete(model)
    const wanted = new Set([...loaded, ...this.#used.keys()])
    const join = [...wanted].filter((model) => !this.#joined.has(model))
    const leave = [...this.#joined].filter((model) => !wanted.has(model))
    this.#joined = wanted
    return { join, leave }
  }

  /** The topics joined now. */
  joined(): string[] {
    return [...this.#joined]
  }
}
