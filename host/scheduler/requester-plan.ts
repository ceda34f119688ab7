/**
 * What the requester's host does next for one of its tasks, from the task's records and the time:
 * wait, assign an attempt (the best claim after the claim window; on a lost lease or a failed result,
 * the next claim), or write the receipt. Only the requester writes assignments and only after the
 * previous lease has run out, so at most one attempt is live at a time. Results are judged only for
 * the latest assignment: a late one (for an attempt already replaced) is kept on the DHT, not accepted.
 */
import {
  type Assignment,
  type Claim,
  type EntryRecord,
  LIMITS,
  type Receipt,
  type TaskResult,
  type TaskState,
} from '../../zomes-bindings/index.ts'
import { rankClaims } from './claim-ranking.ts'
import { outputBytes, outputHash } from './output-hash.ts'

export interface PlanOptions {
  /** Microseconds since the epoch. */
  now: number
  /** When this host first saw a claim on the task (microseconds), or null. */
  firstClaimSeenAt: number | null
  /** How long to gather claims before the first assignment. */
  claimWindowMs: number
  /** Waited past a lease before reassigning, so a slightly slow clock elsewhere does not run it twice. */
  leaseGraceMs: number
  /** Claimants a policy refused as assignees. */
  refused: ReadonlySet<string>
}

export type RequesterStep =
  | { kind: 'wait'; reason: string }
  | { kind: 'assign'; claim: EntryRecord<Claim>; attempt: number }
  | { kind: 'receipt'; receipt: Receipt }
  /** Nothing more to write: finished, cancelled, expired, or out of attempts. */
  | { kind: 'finished' }

export interface Verdict {
  accepted: boolean
  reason: string
}

export function planRequester(state: TaskState, options: PlanOptions): RequesterStep {
  if (state.receipt || state.cancellation) return { kind: 'finished' }
  const task = state.task.entry
  const latest = state.assignments.at(-1)
  if (latest) {
    const result = state.results.find((r) => r.entry.assignment === latest.action_hash)
    if (result) {
      const verdict = verifyResult(result, latest)
      if (verdict.accepted || latest.entry.attempt >= task.max_attempts) {
        return { kind: 'receipt', receipt: receiptFor(result, verdict) }
      }
      return nextAttempt(
        state,
        latest.entry.attempt + 1,
        options,
        `attempt ${latest.entry.attempt}: ${verdict.reason}`,
      )
    }
    if (task.deadline < options.now) return { kind: 'finished' }
    if (latest.entry.lease_expires_at + options.leaseGraceMs * 1000 >= options.now) {
      return { kind: 'wait', reason: `attempt ${latest.entry.attempt} holds the lease` }
    }
    if (latest.entry.attempt >= task.max_attempts) return { kind: 'finished' }
    return nextAttempt(
      state,
      latest.entry.attempt + 1,
      options,
      `attempt ${latest.entry.attempt} lost its lease`,
    )
  }
  if (task.deadline < options.now) return { kind: 'finished' }
  if (options.firstClaimSeenAt === null) return { kind: 'wait', reason: 'no claims yet' }
  if (options.now - options.firstClaimSeenAt < options.claimWindowMs * 1000) {
    return { kind: 'wait', reason: 'gathering claims' }
  }
  return nextAttempt(state, 1, options, 'first attempt')
}

/**
 * The claim for the next attempt: the best claimant not tried yet, else the one tried fewest times
 * (a retry on the same node beats waiting for a new one), skipping claimants a policy refused.
 */
function nextAttempt(state: TaskState, attempt: number, options: PlanOptions, why: string): RequesterStep {
  const tries = new Map<string, number>()
  for (const a of state.assignments) tries.set(a.entry.assignee, (tries.get(a.entry.assignee) ?? 0) + 1)
  const candidates = rankClaims(state.task, state.claims)
    .filter((c) => !options.refused.has(c.author))
    .map((claim, rank) => ({ claim, rank, tries: tries.get(claim.author) ?? 0 }))
    .sort((a, b) => a.tries - b.tries || a.rank - b.rank)
  const next = candidates[0]
  if (next === undefined) return { kind: 'wait', reason: `${why}; no claim to assign` }
  return { kind: 'assign', claim: next.claim, attempt }
}

/** Whether a result for `assignment` is one to accept: by the assignee, ok, and its output hash checks out. */
export function verifyResult(result: EntryRecord<TaskResult>, assignment: EntryRecord<Assignment>): Verdict {
  const r = result.entry
  if (result.author !== assignment.entry.assignee) {
    return { accepted: false, reason: `written by ${result.author}, not the assignee` }
  }
  if (r.assignment !== assignment.action_hash) return { accepted: false, reason: 'for another assignment' }
  if (r.status === 'error') return { accepted: false, reason: `the worker failed: ${r.error}` }
  if (r.output_cid !== null) {
    // This host fetches no IPFS content yet: the hash of an output kept there is the assignee's word.
    return { accepted: true, reason: `output at ${r.output_cid}; its hash is not checked here` }
  }
  if (outputHash(r.output) !== r.output_hash)
    return { accepted: false, reason: 'the output does not match output_hash' }
  return { accepted: true, reason: 'output hash verified' }
}

function receiptFor(result: EntryRecord<TaskResult>, verdict: Verdict): Receipt {
  const { metrics, output } = result.entry
  const tokens =
    metrics.tokens_in === null && metrics.tokens_out === null
      ? null
      : (metrics.tokens_in ?? 0) + (metrics.tokens_out ?? 0)
  return {
    task: result.entry.task,
    result: result.action_hash,
    accepted: verdict.accepted,
    // The worker's error may be longer than a receipt's reason.
    reason: [...verdict.reason].slice(0, LIMITS.reason.max).join(''),
    usage: { duration_ms: metrics.duration_ms, tokens, output_bytes: outputBytes(output).length },
  }
}
