/**
 * Gathers leaves into windows and seals each window with one signed write: a window opens with its
 * first leaf and closes at the next boundary of a fixed grid (every `windowMs` since the Unix epoch)
 * or at `maxLeaves`, whichever comes first (by default a second or a few hundred leaves, design 4b: the
 * runner's answers and the requester's records alike). The times a window is sealed with are its
 * slot's boundaries, never a leaf's: a public batch says when its slot was, the same for every peer,
 * not when a request came (README, "The record"). Each `add` resolves, once its window is sealed,
 * with the leaf's index and what the seal gave (so one signature serves every request of the window);
 * a failed seal rejects every leaf of its window.
 *
 * With `everySlot`, once started, a window is sealed at the end of every slot whether or not a leaf
 * came (`seal` gets none): when this peer writes then says nothing of what it did (a requester's
 * cover, served-records.ts). Only a window filled to `maxLeaves` is sealed before its slot ends.
 */
export interface Sealed<R> {
  index: number
  sealed: R
}

export interface BatchWindowInit<L, R> {
  windowMs?: number
  maxLeaves?: number
  /** Seal a window on every slot once started, empty or not. */
  everySlot?: boolean
  seal: (leaves: L[], openedAt: number, closedAt: number) => Promise<R>
}

interface Pending<L, R> {
  leaves: L[]
  waiters: { resolve: (s: Sealed<R>) => void; reject: (err: unknown) => void }[]
  /** Its slot's boundaries, in microseconds. */
  openedAt: number
  closedAt: number
  /** Its own close (none while a schedule of every slot runs: that closes it). */
  timer: NodeJS.Timeout | null
}

const WINDOW_MS = 1000
const MAX_LEAVES = 256
/** The most slots a late timer signs after the fact. */
const MAX_LATE_SLOTS = 16

/** The slot of the grid of `windowMs` that the time `atMs` falls in: [start, end), in milliseconds. */
export function slotOf(atMs: number, windowMs: number): { start: number; end: number } {
  const start = Math.floor(atMs / windowMs) * windowMs
  return { start, end: start + windowMs }
}

/** A window of the slot `slot` (ms) with no leaf yet, its bounds in microseconds. */
function pending<L, R>(slot: { start: number; end: number }, timer: NodeJS.Timeout | null): Pending<L, R> {
  return { leaves: [], waiters: [], openedAt: slot.start * 1000, closedAt: slot.end * 1000, timer }
}

export class BatchWindow<L, R> {
  readonly #init: BatchWindowInit<L, R>
  #open: Pending<L, R> | null = null
  readonly #sealing = new Set<Promise<void>>()
  /** The next slot's end, on a schedule of every slot; null when not started or stopped. */
  #schedule: NodeJS.Timeout | null = null
  /** The end (microseconds) of the latest slot a window was sealed for. */
  #sealedThrough = 0

  constructor(init: BatchWindowInit<L, R>) {
    this.#init = init
  }

  get #windowMs(): number {
    return this.#init.windowMs ?? WINDOW_MS
  }

  /** Starts sealing a window on every slot (with `everySlot`; otherwise windows seal as leaves come). */
  start(): void {
    if (this.#init.everySlot && this.#schedule === null) this.#nextSlot()
  }

  /** Stops the schedule of every slot (the open window stays, for `flush`). */
  stopSchedule(): void {
    if (this.#schedule !== null) clearTimeout(this.#schedule)
    this.#schedule = null
  }

  add(leaf: L): Promise<Sealed<R>> {
    const window = this.#open ?? this.#openWindow()
    const sealed = new Promise<Sealed<R>>((resolve, reject) => window.waiters.push({ resolve, reject }))
    window.leaves.push(leaf)
    if (window.leaves.length >= (this.#init.maxLeaves ?? MAX_LEAVES)) this.#close()
    return sealed
  }

  /**
   * Seals the open window now and waits for every seal under way (at stop). On a schedule of every
   * slot, the slot under way is sealed empty when no leaf came in it: a stop mid-slot then signs that
   * slot whether this peer asked in it or not.
   */
  async flush(): Promise<void> {
    const scheduled = this.#schedule !== null
    this.stopSchedule()
    const slot = slotOf(Date.now(), this.#windowMs)
    this.#close()
    if (scheduled && this.#sealedThrough < slot.end * 1000) this.#seal(pending(slot, null))
    await Promise.allSettled([...this.#sealing])
  }

  #openWindow(): Pending<L, R> {
    const now = Date.now()
    const slot = slotOf(now, this.#windowMs)
    // On a schedule of every slot the schedule closes it; else its own timer, which should not keep a
    // process alive (stop flushes it).
    const timer = this.#schedule === null ? setTimeout(() => this.#close(), slot.end - now).unref() : null
    this.#open = pending(slot, timer)
    return this.#open
  }

  /**
   * At the end of the slot now under way: seals its window, or an empty one when no leaf came and none
   * was sealed for it (a window filled early), then waits for the next slot's end.
   */
  #nextSlot(): void {
    const now = Date.now()
    const slot = slotOf(now, this.#windowMs)
    this.#schedule = setTimeout(() => {
      // A timer may fire a little before the wall clock reaches the slot's end: wait out the rest.
      if (Date.now() < slot.end) return this.#nextSlot()
      this.#sealEnded(slot.start)
      this.#nextSlot()
    }, slot.end - now)
    this.#schedule.unref()
  }

  /**
   * Seals every slot that has ended since the one starting at `fromMs`: a timer that fired late (a
   * stalled loop) still signs each slot it ran through, so a skipped slot never sets one with a leaf
   * apart. Past `MAX_LATE_SLOTS` (a machine asleep) the older slots go unsigned, as when offline.
   */
  #sealEnded(fromMs: number): void {
    const ms = this.#windowMs
    const current = slotOf(Date.now(), ms).start
    for (let start = Math.max(fromMs, current - MAX_LATE_SLOTS * ms); start < current; start += ms) {
      const slot = slotOf(start, ms)
      const open = this.#open
      if (open !== null && open.closedAt <= slot.end * 1000) this.#close()
      // A later slot's window already open stays open.
      else if (this.#sealedThrough < slot.end * 1000) this.#seal(pending(slot, null))
    }
  }

  #close(): void {
    const window = this.#open
    if (window === null) return
    this.#open = null
    this.#seal(window)
  }

  #seal(window: Pending<L, R>): void {
    if (window.timer !== null) clearTimeout(window.timer)
    this.#sealedThrough = Math.max(this.#sealedThrough, window.closedAt)
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
