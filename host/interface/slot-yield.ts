/**
 * A running request's side of priority preemption (issue 58, point 2): the runner may ask it to give
 * its slot up to a higher band's request. The engine says how it parks the request (its sequence saved
 * to disk, the slot given back), and once parked it waits for a slot again and goes on where it
 * stopped; its caller sees a pause, never an error.
 */
export interface SlotYield {
  /**
   * The engine's way to park the request now, resolving once its slot may go to another (null: it
   * cannot be parked from here on), and what parking it would cost against its time left. Asked at
   * most once per run of it.
   */
  parkable(park: (() => Promise<void>) | null, odds?: () => ParkOdds): void
  /** Parked: gives its slot back and resolves once it holds one again (rejects when `signal` aborts). */
  resume(signal: AbortSignal): Promise<void>
}

/** A running request's expected time left and what parking it costs on its engine now (ms). */
export interface ParkOdds {
  /** Tokens it may still make times its own time per token so far; null before it is known. */
  leftMs: number | null
  /** From asking a park until the slot is given back, plus the restore later: the engine's running estimate. */
  parkMs: number
}
