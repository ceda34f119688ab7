/**
 * Gathers leaves into windows and seals each window with one signed write: a window opens with its
 * first leaf and closes at the next boundary of a fixed grid (every `windowMs` since the Unix epoch)
 * or at `maxLeaves`, whichever comes first (by default a second or a few hundred leaves, design 4b: the
 * runner's answers and the requester's records alike). The times a window is sealed with are its
 * slot's boundaries, never a leaf's: a public batch says when its slot was, the same for every peer,
 * not when a request came (README, "The record"). Each `add` resolves, once its window is sealed,
 * with the leaf's index and what the seal gave (so one signature serves every request of the window);
 * a failed seal rejects every leaf of its window.
 */
export interface Sealed<R> {
  index: number
  sealed: R
}

export interface BatchWindowInit<L, R> {
  windowMs?: number
  maxLeaves?: number
  seal: (leaves: L[], openedAt: number, closedAt: number) => Promise<R>
}

interface Pending<L, R> {
  leaves: L[]
  waiters: { resolve: (s: Sealed<R>) => void; reject: (err: unknown) => void }[]
  /** Its slot's boundaries, in microseconds. */
  openedAt: number
  closedAt: number
  timer: NodeJS.Timeout
}

const WINDOW_MS = 1000
const MAX_LEAVES = 256

/** The slot of the grid of `windowMs` that the time `atMs` falls in: [start, end), in milliseconds. */
export function slotOf(atMs: number, windowMs: number): { start: number; end: number } {
  const start = Math.floor(atMs / windowMs) * windowMs
  return { start, end: start + windowMs }
}

export class BatchWindow<L, R> {
  readonly #init: BatchWindowInit<L, R>
  #open: Pending<L, R> | null = null
  readonly #sealing = new Set<Promise<void>>()

  constructor(init: BatchWindowInit<L, R>) {
    this.#init = init
  }

  add(leaf: L): Promise<Sealed<R>> {
    const window = this.#open ?? this.#openWindow()
    const sealed = new Promise<Sealed<R>>((resolve, reject) => window.waiters.push({ resolve, reject }))
    window.leaves.push(leaf)
    if (window.leaves.length >= (this.#init.maxLeaves ?? MAX_LEAVES)) this.#close()
    return sealed
  }

  /** Seals the open window now and waits for every seal under way (at stop). */
  async flush(): Promise<void> {
    this.#close()
    await Promise.allSettled([...this.#sealing])
  }

  #openWindow(): Pending<L, R> {
    const now = Date.now()
    const slot = slotOf(now, this.#init.windowMs ?? WINDOW_MS)
    const timer = setTimeout(() => this.#close(), slot.end - now)
    // A window alone should not keep a process alive; stop flushes it.
    timer.unref()
    const [openedAt, closedAt] = [slot.start * 1000, slot.end * 1000]
    this.#open = { leaves: [], waiters: [], openedAt, closedAt, timer }
    return this.#open
  }

  #close(): void {
    const window = this.#open
    if (window === null) return
    this.#open = null
    clearTimeout(window.timer)
    const sealing = this.#init.seal(window.leaves, window.openedAt, window.closedAt).then(
      (sealed) => {
        for (const [index, w] of window.waiters.entries()) w.resolve({ index, sealed })
      },
      (err: unknown) => {
        for (const w of window.waiters) w.reject(err)
      },
    )
    this.#sealing.add(sealing)
    void sealing.finally(() => this.#sealing.delete(sealing))
  }
}
