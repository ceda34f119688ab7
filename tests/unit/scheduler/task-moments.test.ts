import { describe, expect, it } from 'vitest'
import { HEARD_KEEPS_LEASE_MS } from '../../../host/scheduler/attempt-pulse.ts'
import { FILL_WINDOWS, LATE_CLAIM_WINDOWS } from '../../../host/scheduler/claimant-plan.ts'
import { type MomentInput, nextMoment } from '../../../host/scheduler/task-moments.ts'
import type { Assignment, EntryRecord, TaskState } from '../../../zomes-bindings/index.ts'
import { task as taskEntry } from './fixtures.ts'

const AT = 1_000_000_000_000
const WINDOW = 200_000 // the claim window, µs
const GRACE = 250_000
const DEADLINE = AT + 60_000_000
const LEASE_END = AT + 5_000_000

function assignment(attempt: number, leaseEnd: number): EntryRecord<Assignment> {
  return {
    action_hash: `uhCkkAssignment${attempt}`,
    author: 'uhCAkRequester',
    timestamp: AT + attempt,
    entry: {
      task: 'uhCkkTask',
      claim: 'uhCkkClaim',
      assignee: 'uhCAkB',
      slot: 0,
      attempt,
      lease_expires_at: leaseEnd,
    },
  }
}

function state(assignments: EntryRecord<Assignment>[] = []): TaskState {
  return {
    task: {
      action_hash: 'uhCkkTask',
      author: 'uhCAkRequester',
      timestamp: AT,
      entry: taskEntry({ deadline: DEADLINE }),
    },
    claims: [],
    assignments,
    results: [],
    receipt: null,
    cancellation: null,
    status: assignments.length > 0 ? 'assigned' : 'submitted',
  }
}

/** Attempt 1 (lease to LEASE_END) failed at `at`. */
function failedAt(at: number): TaskState {
  const s = state([assignment(1, LEASE_END)])
  const metrics = {
    started_at: at,
    finished_at: at,
    duration_ms: 0,
    tokens_in: null,
    tokens_out: null,
    tokens_per_second: null,
  }
  const entry = {
    task: 'uhCkkTask',
    assignment: 'uhCkkAssignment1',
    status: 'error' as const,
    output: null,
    output_cid: null,
    output_hash: '0'.repeat(64),
    error: 'failed to load',
    metrics,
  }
  return { ...s, results: [{ action_hash: 'uhCkkResult1', author: 'uhCAkB', timestamp: at, entry }] }
}

const input = (now: number, overrides: Partial<MomentInput> = {}): MomentInput => ({
  now,
  claimWindowMs: WINDOW / 1000,
  leaseGraceMs: GRACE / 1000,
  firstClaimSeenAt: null,
  declinedUntil: null,
  lookAgainAt: null,
  ...overrides,
})

describe('nextMoment', () => {
  it.each([
    ['just submitted: the end of the claim window', state(), input(AT + 1), AT + WINDOW],
    [
      'a claim seen late in the window: a window after it, if that comes first',
      state(),
      input(AT + WINDOW + 1, { firstClaimSeenAt: AT + WINDOW / 2 }),
      AT + WINDOW + WINDOW / 2,
    ],
    [
      'after the window: the late claimants turn',
      state(),
      input(AT + WINDOW + 1),
      AT + WINDOW * LATE_CLAIM_WINDOWS,
    ],
    [
      'after the late turn: when every capable node had its chance',
      state(),
      input(AT + WINDOW * LATE_CLAIM_WINDOWS + 1),
      AT + WINDOW * FILL_WINDOWS,
    ],
    [
      'a claimant that planned to look again: then, if that comes first',
      state(),
      input(AT + WINDOW * FILL_WINDOWS + 1, { lookAgainAt: AT + WINDOW * FILL_WINDOWS + 9 }),
      AT + WINDOW * FILL_WINDOWS + 9,
    ],
    [
      'declined: when the decline runs out, if that comes first',
      state(),
      input(AT + WINDOW * FILL_WINDOWS + 1, { declinedUntil: AT + WINDOW * FILL_WINDOWS + 7 }),
      AT + WINDOW * FILL_WINDOWS + 7,
    ],
    ['assigned: the lease running out', state([assignment(1, LEASE_END)]), input(AT + 3_000_000), LEASE_END],
    [
      'a lease run out: the reassignment a grace later',
      state([assignment(1, LEASE_END)]),
      input(LEASE_END + 1),
      LEASE_END + GRACE,
    ],
    [
      'then a claimant already tried, a window after that',
      state([assignment(1, LEASE_END)]),
      input(LEASE_END + GRACE + 1),
      LEASE_END + GRACE + WINDOW,
    ],
    [
      'a lease past its written end whose assignee was heard running it: a heard silence later',
      state([assignment(1, LEASE_END)]),
      input(LEASE_END + GRACE + 1, { heard: new Map([['uhCkkAssignment1', LEASE_END + 2_000_000]]) }),
      LEASE_END + 2_000_000 + HEARD_KEEPS_LEASE_MS * 1000,
    ],
    [
      'only the current attempt of a slot counts',
      state([assignment(1, AT + 2_000_000), assignment(2, LEASE_END)]),
      input(AT + 3_000_000),
      LEASE_END,
    ],
    [
      'a failed result: the retry on a claimant already tried, a window after it',
      failedAt(AT + 3_000_000),
      input(AT + 3_000_000 + 1),
      AT + 3_000_000 + WINDOW,
    ],
    ['nothing else left: the deadline', state(), input(AT + WINDOW * FILL_WINDOWS + 1), DEADLINE],
    ['past the deadline: nothing to wait for', state(), input(DEADLINE + 1), null],
  ])('%s', (_, s, i, expected) => {
    expect(nextMoment(s, i)).toBe(expected)
  })
})
