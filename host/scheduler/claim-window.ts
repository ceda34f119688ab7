/**
 * How long a requester gathers claims before it assigns (and, FILL_WINDOWS of them, how long every
 * capable node has to claim): short where the backend tells the scheduler of a claim as it is stored,
 * long where claims are seen by polling. An embedded peer goes from the one to the other as its mesh
 * grows past `record.holders` (records sharded: a far runner's claim is seen by a sweep), so the window
 * may be a function, asked at each plan.
 */
import { FILL_WINDOWS } from './claimant-plan.ts'

/** The window where stored-records events tell of each claim. */
export const DEFAULT_CLAIM_WINDOW_MS = 200

export type ClaimWindow = number | (() => number)

export interface ClaimWindows {
  claimMs: () => number
  fillMs: () => number
}

export function claimWindowsOf(window: ClaimWindow = DEFAULT_CLAIM_WINDOW_MS): ClaimWindows {
  const claimMs = typeof window === 'number' ? () => window : window
  return { claimMs, fillMs: () => claimMs() * FILL_WINDOWS }
}
