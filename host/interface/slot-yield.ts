/**
 * A running request's side of priority preemption (issue 58, point 2): the runner may ask it to give
 * its slot up to a higher band's request. The engine says how it parks the request (its sequence saved
 * to disk, the slot given back), and once parked it waits for a slot again and goes on where it
 * stopped; its caller sees a pause, never an error.
 */
export interface SlotYield {
  /**
   * The engine's way to park the request now, resolving once its slot may go to another (null: it
   * cannot be parked from here on). Asked at most once per run of it.
   */
  parkable(park: (() => Promise<void>) | null): void
  /** Parked: gives its slot back and resolves once it holds one again (rejects when `signal` aborts). */
  resume(signal: AbortSignal): Promise<void>
}
