/**
 * What the requester's host does next for one of its tasks, from the task's records and the time:
 * wait, assign an attempt, or write the receipt.
 *
 * A task with fan-out N has N slots, each one answer: the best claims after the claim window (or
 * once every node that claims at once has claimed) go to slots 0..N-1, each to a different claimant (one not live or answered in another slot). A slot whose
 * lease runs out or whose result fails is reassigned to the next claim (one not tried yet first, waited
 * for a claim window when a capable node has not claimed yet: a model that failed to load on one peer
 * goes to another that holds the file, not to the same one again), up to max_attempts; only the
 * requester writes assignments and only after the slot's previous lease has run out, so at most one
 * attempt per slot is live at a time. A slot's result is judged only for its current attempt: a late
 * one (for an attempt already replaced) is kept on the DHT, not accepted.
 *
 * The task is settled when every slot has an answer or is out of attempts; then the receipt reduces
 * the answers by agreement (./receipt.ts). A slot no claimant is left for (fewer claimants than the
 * fan-out) is given up once every capable node has had its chance to claim (`fillWindowMs` after
 * submission) and the other slots are settled, so a small mesh answers with the answers it has.
 */
import {
  type Assignment,
  type Claim,
  currentAssignments,
  type EntryRecord,
  type Receipt,
  type TaskResult,
  type TaskState,
} from '../../zomes-bindings/index.ts'
import { leaseEnd } from './attempt-pulse.ts'
import { rankClaims } from './claim-ranking.ts'
import { type Judged, receiptFor, type Verdict, verifyResult } from './receipt.ts'

export interface PlanOptions {
  /** Microseconds since the epoch. */
  now: number
  /** When this host first saw a claim on the task (microseconds), or null. */
  firstClaimSeenAt: number | null
  /** How long to gather claims before the first assignment. */
  claimWindowMs: number
  /** Every node that claims at once has claimed: no claim is left to gather, the window closes early. */
  claimsIn: boolean
  /** Waited past a lease before reassigning, so a slightly slow clock elsewhere does not run it twice. */
  leaseGraceMs: number
  /** From submission, how long a slot waits for a claimant of its own before it is given up. */
  fillWindowMs: number
  /** Claimants a policy refused as assignees. */
  refused: ReadonlySet<string>
  /** The agents known to be able to run the task (their advertised capability meets it). */
  capable: readonly string[]
  /** The outputs the assignees gave this requester, by hash (the Results name them by hash only). */
  outputs: ReadonlyMap<string, unknown>
  /** When each attempt's assignee was last heard running it (microseconds, by assignment hash). */
  heard?: ReadonlyMap<string, number>
}

/** When an attempt's lease ends for the requester (microseconds): past its grace, or later while heard. */
export function attemptLiveUntil(
  a: EntryRecord<Assignment>,
  options: Pick<PlanOptions, 'leaseGraceMs' | 'heard'>,
): number {
  return leaseEnd(
    a.entry.lease_expires_at + options.leaseGraceMs * 1000,
    options.heard?.get(a.action_hash),
    1000,
  )
}

export type RequesterStep =
  | { kind: 'wait'; reason: string }
  | { kind: 'assign'; claim: EntryRecord<Claim>; slot: number; attempt: number }
  | { kind: 'receipt'; receipt: Receipt }
  /** Nothing more to write: finished, cancelled, expired, or out of attempts. */
  | { kind: 'finished' }

/** Where one slot stands: its current attempt (null before the first) and that attempt's result. */
interface Slot {
  slot: number
  phase: 'open' | 'live' | 'answered' | 'retry' | 'spent'
  current: EntryRecord<Assignment> | null
  result: EntryRecord<TaskResult> | null
  output: unknown
  verdict: Verdict | null
  /** Why the slot needs (or needed) another attempt. */
  why: string
}

export function planRequester(state: TaskState, options: PlanOptions): RequesterStep {
  if (state.receipt || state.cancellation) return { kind: 'finished' }
  const task = state.task.entry
  const slots = slotsOf(state, options)
  const settled = (s: Slot) => s.phase === 'answered' || s.phase === 'spent'
  if (slots.every(settled)) return receiptStep(state, slots, 0)
  if (task.deadline < options.now) return { kind: 'finished' }
  if (state.assignments.length === 0) {
    if (options.firstClaimSeenAt === null) return { kind: 'wait', reason: 'no claims yet' }
    if (!options.claimsIn && options.now - options.firstClaimSeenAt < options.claimWindowMs * 1000) {
      return { kind: 'wait', reason: 'gathering claims' }
    }
  }
  // A claimant gives one answer: not to a second slot while it runs or answered another.
  const busy = new Set(
    slots.flatMap((s) => (s.phase === 'live' || s.phase === 'answered' ? [s.current!.entry.assignee] : [])),
  )
  const unfilled: Slot[] = []
  for (const s of slots) {
    if (s.phase !== 'open' && s.phase !== 'retry') continue
    const claim = nextClaim(state, options, busy)
    if (claim && !(s.phase === 'retry' && triedBefore(state, claim) && othersMayClaim(s, state, options))) {
      return { kind: 'assign', claim, slot: s.slot, attempt: (s.current?.entry.attempt ?? 0) + 1 }
    }
    unfilled.push(s)
  }
  const filled = options.now - state.task.timestamp >= options.fillWindowMs * 1000
  if (filled && unfilled.length > 0 && slots.every((s) => settled(s) || unfilled.includes(s))) {
    const step = receiptStep(state, slots, unfilled.length)
    if (step.kind === 'receipt') return step
  }
  const live = slots.find((s) => s.phase === 'live')
  if (live) return { kind: 'wait', reason: live.why }
  return { kind: 'wait', reason: `${unfilled[0]?.why}; no claim to assign` }
}

function slotsOf(state: TaskState, options: PlanOptions): Slot[] {
  const { fan_out, max_attempts } = state.task.entry
  const current = currentAssignments(state.assignments)
  return Array.from({ length: fan_out }, (_, slot): Slot => {
    const a = current.find((c) => c.entry.slot === slot)
    if (a === undefined) {
      return {
        slot,
        phase: 'open',
        current: null,
        result: null,
        output: undefined,
        verdict: null,
        why: 'first attempt',
      }
    }
    const name = attemptName(a, fan_out)
    const outOfAttempts = a.entry.attempt >= max_attempts
    const result = state.results.find((r) => r.entry.assignment === a.action_hash) ?? null
    const leaseLive = attemptLiveUntil(a, options) >= options.now
    if (result) {
      const output = options.outputs.get(result.entry.output_hash)
      // A Result travels by gossip, its output by a signal that a dropped connection may lose: the
      // requester asks for it again (payload-exchange.ts) while the lease lasts, rather than run it twice.
      if (output === undefined && result.entry.status === 'ok' && leaseLive) {
        const why = `${name} answered; its output is on its way`
        return { slot, phase: 'live', current: a, result: null, output, verdict: null, why }
      }
      const verdict = verifyResult(result, a, output)
      const phase = verdict.accepted ? 'answered' : outOfAttempts ? 'spent' : 'retry'
      return { slot, phase, current: a, result, output, verdict, why: `${name}: ${verdict.reason}` }
    }
    const phase = leaseLive ? 'live' : outOfAttempts ? 'spent' : 'retry'
    return {
      slot,
      phase,
      current: a,
      result: null,
      output: undefined,
      verdict: null,
      why: leaseLive ? `${name} holds the lease` : `${name} lost its lease`,
    }
  })
}

/** The receipt over the slots' results, or finished when no slot has one (every lease ran out). */
function receiptStep(state: TaskState, slots: readonly Slot[], unfilled: number): RequesterStep {
  const judged = slots.flatMap((s): Judged[] =>
    s.result && s.verdict ? [{ slot: s.slot, result: s.result, output: s.output, verdict: s.verdict }] : [],
  )
  if (judged.length === 0) return { kind: 'finished' }
  return { kind: 'receipt', receipt: receiptFor(state.task, judged, unfilled) }
}

/**
 * The claim for a slot's next attempt: the best claimant not tried yet, else the one tried fewest
 * times (a retry on the same node beats waiting for a new one), skipping claimants a policy refused
 * and those busy in another slot.
 */
function nextClaim(
  state: TaskState,
  options: PlanOptions,
  busy: ReadonlySet<string>,
): EntryRecord<Claim> | undefined {
  const tries = new Map<string, number>()
  for (const a of state.assignments) tries.set(a.entry.assignee, (tries.get(a.entry.assignee) ?? 0) + 1)
  return rankClaims(state.task, state.claims)
    .filter((c) => !options.refused.has(c.author) && !busy.has(c.author))
    .map((claim, rank) => ({ claim, rank, tries: tries.get(claim.author) ?? 0 }))
    .sort((a, b) => a.tries - b.tries || a.rank - b.rank)[0]?.claim
}

function triedBefore(state: TaskState, claim: EntryRecord<Claim>): boolean {
  return state.assignments.some((a) => a.entry.assignee === claim.author)
}

/**
 * Whether a claimant not tried yet may be on its way, so retrying one already tried waits for it: for
 * a claim window after a lease ran out (the nodes that claim late claim then; the one tried may be
 * gone with the lease), or after a failed result while a capable node has not been tried (a model
 * that failed to load there: the spare claims when the attempt must load it, ./claimant-plan.ts).
 */
function othersMayClaim(s: Slot, state: TaskState, options: PlanOptions): boolean {
  if (s.current === null) return false
  const window = options.claimWindowMs * 1000
  if (s.result === null) {
    return options.now < attemptLiveUntil(s.current, options) + window
  }
  const tried = new Set(state.assignments.map((a) => a.entry.assignee))
  const untried = options.capable.some((agent) => !tried.has(agent) && !options.refused.has(agent))
  return untried && options.now < s.result.timestamp + window
}

/** "attempt 2", or "attempt 2 of slot 1" for a task that fans out. */
function attemptName(a: EntryRecord<Assignment>, fanOut: number): string {
  return fanOut === 1 ? `attempt ${a.entry.attempt}` : `attempt ${a.entry.attempt} of slot ${a.entry.slot}`
}
