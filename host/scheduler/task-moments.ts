/**
 * When a task next changes without an op announcing it, so the scheduler can set one timer per task
 * instead of polling: the end of its claim window (and of the late claimants' wait, and of the time
 * every capable node had to claim), a lease running out (late claimants claim then; the requester
 * reassigns a grace later, or once the attempt is no longer heard (./attempt-pulse.ts), and retries a claimant already tried a window after that, as it does a
 * window after a failed result), a decline running out, a claimant's own next look, the deadline.
 */
import { currentAssignments, type TaskState } from '../../zomes-bindings/index.ts'
import { FILL_WINDOWS, LATE_CLAIM_WINDOWS } from './claimant-plan.ts'
import { attemptLiveUntil } from './requester-plan.ts'

export interface MomentInput {
  /** Microseconds since the epoch. */
  now: number
  claimWindowMs: number
  leaseGraceMs: number
  /** When this host, the requester, first saw a claim (microseconds), or null. */
  firstClaimSeenAt: number | null
  /** Until when this host declined the task (microseconds), or null. */
  declinedUntil: number | null
  /** When this host, as a claimant, planned to look at the task again (microseconds), or null. */
  lookAgainAt: number | null
  /** When the current attempts' assignees were last heard running them (microseconds): their leases run on. */
  heard?: ReadonlyMap<string, number>
}

/** The first such moment after `now` (microseconds), or null when nothing is left to wait for. */
export function nextMoment(state: TaskState, input: MomentInput): number | null {
  const { task } = state
  const window = input.claimWindowMs * 1000
  const moments = [
    task.entry.deadline,
    task.timestamp + window,
    task.timestamp + window * LATE_CLAIM_WINDOWS,
    task.timestamp + window * FILL_WINDOWS,
    input.firstClaimSeenAt === null ? null : input.firstClaimSeenAt + window,
    input.declinedUntil,
    input.lookAgainAt,
    ...currentAssignments(state.assignments).flatMap((a) => {
      const liveUntil = attemptLiveUntil(a, input)
      return [a.entry.lease_expires_at, liveUntil, liveUntil + window]
    }),
    ...state.results.map((r) => r.timestamp + window),
  ]
  const next = Math.min(...moments.filter((m): m is number => m !== null && m > input.now))
  return Number.isFinite(next) ? next : null
}
