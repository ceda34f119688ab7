import { describe, expect, it } from 'vitest'
import { payloadHash } from '../../../host/identity/payload-hash.ts'
import { HEARD_KEEPS_LEASE_MS } from '../../../host/scheduler/attempt-pulse.ts'
import { verifyResult } from '../../../host/scheduler/receipt.ts'
import { type PlanOptions, planRequester } from '../../../host/scheduler/requester-plan.ts'
import type {
  Assignment,
  Claim,
  EntryRecord,
  Task,
  TaskResult,
  TaskState,
} from '../../../zomes-bindings/index.ts'
import { claimSnapshot } from '../conductor/fixtures/capability.ts'
import { task as taskEntry, taskState } from './fixtures.ts'

const NOW = 1_000_000_000_000
const ms = (n: number) => n * 1000
const T = 'uhCkkTask'
const REQUESTER = 'uhCAkRequester'

/** A claim; more RAM ranks it higher. */
function claim(author: string, ramBytes = 16): EntryRecord<Claim> {
  const snapshot = claimSnapshot({ ram_bytes: ramBytes })
  return { action_hash: `uhCkkClaim${author}`, author, timestamp: NOW, entry: { task: T, snapshot } }
}

function assignment(
  attempt: number,
  assignee: string,
  leaseExpiresAt: number,
  slot = 0,
): EntryRecord<Assignment> {
  return {
    action_hash: `uhCkkAssignment${slot}.${attempt}`,
    author: REQUESTER,
    timestamp: NOW,
    entry: {
      task: T,
      claim: `uhCkkClaim${assignee}`,
      assignee,
      slot,
      attempt,
      lease_expires_at: leaseExpiresAt,
    },
  }
}

/** The outputs the assignees gave the requester, by hash (a Result names its output by hash only). */
const given = new Map<string, unknown>()

function result(
  of: EntryRecord<Assignment>,
  output: unknown,
  overrides: Partial<TaskResult> = {},
): EntryRecord<TaskResult> {
  if (output !== null) given.set(payloadHash(output), output)
  return {
    action_hash: `uhCkkResult${of.entry.slot}.${of.entry.attempt}`,
    author: of.entry.assignee,
    timestamp: NOW,
    entry: {
      task: T,
      assignment: of.action_hash,
      status: 'ok',
      output_cid: null,
      output_hash: payloadHash(output),
      error: null,
      metrics: {
        started_at: NOW,
        finished_at: NOW,
        duration_ms: 7,
        tokens_in: 3,
        tokens_out: 4,
        tokens_per_second: null,
      },
      ...overrides,
    },
  }
}

function state(parts: Partial<TaskState> = {}, maxAttempts = 2, task: Partial<Task> = {}): TaskState {
  const entry = taskEntry({ max_attempts: maxAttempts, deadline: NOW + ms(60_000), ...task })
  return taskState({ action_hash: T, author: REQUESTER, timestamp: NOW, entry }, parts)
}

const options = (overrides: Partial<PlanOptions> = {}): PlanOptions => ({
  now: NOW,
  firstClaimSeenAt: NOW - ms(1000),
  claimWindowMs: 200,
  claimsIn: false,
  leaseGraceMs: 100,
  fillWindowMs: 2_000,
  refused: new Set(),
  capable: [],
  outputs: given,
  ...overrides,
})

describe('the requester plan', () => {
  it('waits for claims, then for the claim window, then assigns the best claim as attempt 1', () => {
    expect(planRequester(state(), options({ firstClaimSeenAt: null }))).toMatchObject({ kind: 'wait' })
    const claimed = state({ claims: [claim('uhCAkB'), claim('uhCAkC')] })
    expect(planRequester(claimed, options({ firstClaimSeenAt: NOW - ms(50) }))).toEqual({
      kind: 'wait',
      reason: 'gathering claims',
    })
    expect(planRequester(claimed, options())).toMatchObject({ kind: 'assign', attempt: 1 })
  })

  it('closes the claim window early once every node that claims at once has claimed', () => {
    const claimed = state({ claims: [claim('uhCAkB'), claim('uhCAkC')] })
    const early = options({ firstClaimSeenAt: NOW - ms(50), claimsIn: true })
    expect(planRequester(claimed, early)).toMatchObject({ kind: 'assign', attempt: 1 })
    expect(planRequester(state(), { ...early, firstClaimSeenAt: null })).toMatchObject({ kind: 'wait' })
  })

  it('leaves a live lease alone, and reassigns to the next claimant once it and the grace ran out', () => {
    const first = assignment(1, 'uhCAkB', NOW - ms(50))
    const s = state({ claims: [claim('uhCAkB'), claim('uhCAkC')], assignments: [first] })
    expect(planRequester(s, options())).toMatchObject({ kind: 'wait', reason: 'attempt 1 holds the lease' })
    const later = planRequester(s, options({ now: NOW + ms(60) }))
    expect(later).toMatchObject({ kind: 'assign', attempt: 2, claim: { author: 'uhCAkC' } })
  })

  it('keeps a lease past its end while its assignee is heard running it, and reassigns once it falls silent', () => {
    const first = assignment(1, 'uhCAkB', NOW - ms(5_000))
    const s = state({ claims: [claim('uhCAkB'), claim('uhCAkC')], assignments: [first] })
    const heard = (agoMs: number) => new Map([[first.action_hash, NOW - ms(agoMs)]])
    expect(planRequester(s, options({ heard: heard(1_000) }))).toMatchObject({
      kind: 'wait',
      reason: 'attempt 1 holds the lease',
    })
    const silent = options({ heard: heard(HEARD_KEEPS_LEASE_MS + 1) })
    expect(planRequester(s, silent)).toMatchObject({
      kind: 'assign',
      attempt: 2,
      claim: { author: 'uhCAkC' },
    })
  })

  it('retries on the same claimant when it is the only one, and stops at max_attempts', () => {
    const s = state({ claims: [claim('uhCAkB')], assignments: [assignment(1, 'uhCAkB', NOW - ms(500))] })
    expect(planRequester(s, options())).toMatchObject({
      kind: 'assign',
      attempt: 2,
      claim: { author: 'uhCAkB' },
    })
    const out = state(
      {
        claims: [claim('uhCAkB')],
        assignments: [assignment(1, 'uhCAkB', NOW - ms(500)), assignment(2, 'uhCAkB', NOW - ms(500))],
      },
      2,
    )
    expect(planRequester(out, options())).toEqual({ kind: 'finished' })
  })

  it('waits a claim window after a lost lease for a claimant not tried yet before retrying the same one', () => {
    // Lease ended 150 ms ago: past the 100 ms grace, within grace + the 200 ms window.
    const justLost = state({
      claims: [claim('uhCAkB')],
      assignments: [assignment(1, 'uhCAkB', NOW - ms(150))],
    })
    expect(planRequester(justLost, options())).toMatchObject({ kind: 'wait' })
    // A late claimant came: it gets the retry at once.
    const withNew = { ...justLost, claims: [claim('uhCAkB'), claim('uhCAkC')] }
    expect(planRequester(withNew, options())).toMatchObject({
      kind: 'assign',
      attempt: 2,
      claim: { author: 'uhCAkC' },
    })
  })

  describe('after a failed attempt (a model that would not load on B; C holds the file too)', () => {
    const first = assignment(1, 'uhCAkB', NOW + ms(5000))
    // Failed 50 ms ago: within the 200 ms claim window.
    const failed = {
      ...result(first, null, { status: 'error', error: 'llama.cpp failed to load model "m": out of memory' }),
      timestamp: NOW - ms(50),
    }
    const failedWith = (claims: string[]) =>
      state({ claims: claims.map((c) => claim(c)), assignments: [first], results: [failed] }, 3)
    it.each([
      [
        "C's claim in hand: the retry goes to C",
        failedWith(['uhCAkB', 'uhCAkC']),
        options({ capable: ['uhCAkB', 'uhCAkC'] }),
        { kind: 'assign', attempt: 2, claim: { author: 'uhCAkC' } },
      ],
      [
        'C capable but not claimed yet: waits for its claim rather than trying B again, saying why',
        failedWith(['uhCAkB']),
        options({ capable: ['uhCAkB', 'uhCAkC'] }),
        {
          kind: 'wait',
          reason:
            'attempt 1: the worker failed on uhCAkB: llama.cpp failed to load model "m": out of memory; no claim to assign',
        },
      ],
      [
        'C silent a claim window after the failure: B again',
        failedWith(['uhCAkB']),
        options({ capable: ['uhCAkB', 'uhCAkC'], now: NOW + ms(150) }),
        { kind: 'assign', attempt: 2, claim: { author: 'uhCAkB' } },
      ],
      [
        'nobody else can run it: B again at once',
        failedWith(['uhCAkB']),
        options({ capable: ['uhCAkB'] }),
        { kind: 'assign', attempt: 2, claim: { author: 'uhCAkB' } },
      ],
      [
        'C refused by a policy: B again at once',
        failedWith(['uhCAkB']),
        options({ capable: ['uhCAkB', 'uhCAkC'], refused: new Set(['uhCAkC']) }),
        { kind: 'assign', attempt: 2, claim: { author: 'uhCAkB' } },
      ],
    ])('%s', (_name, taskState, planOptions, expected) => {
      expect(planRequester(taskState, planOptions)).toMatchObject(expected)
    })
  })

  it('skips claimants a policy refused', () => {
    const s = state({ claims: [claim('uhCAkB')] })
    expect(planRequester(s, options({ refused: new Set(['uhCAkB']) }))).toMatchObject({ kind: 'wait' })
  })

  it('accepts a verified result with the usage, and judges only the latest attempt', () => {
    const first = assignment(1, 'uhCAkB', NOW - ms(500))
    const second = assignment(2, 'uhCAkC', NOW + ms(5000))
    const late = result(first, { late: true })
    const s = state({
      claims: [claim('uhCAkB'), claim('uhCAkC')],
      assignments: [first, second],
      results: [late],
    })
    expect(planRequester(s, options())).toMatchObject({ kind: 'wait' })
    const good = result(second, { b: 1, a: 2 })
    expect(planRequester({ ...s, results: [late, good] }, options())).toEqual({
      kind: 'receipt',
      receipt: {
        task: T,
        result: good.action_hash,
        accepted: true,
        reason: 'output hash verified',
        usage: { duration_ms: 7, tokens: 7, output_bytes: '{"a":2,"b":1}'.length },
        votes: [
          {
            result: good.action_hash,
            assignee: 'uhCAkC',
            model_file_hash: null,
            group: 0,
            similarity: null,
            agree: true,
          },
        ],
      },
    })
  })

  it('waits for the output of an ok result while its lease lasts, then moves on while attempts remain, then gives a failing receipt', () => {
    const first = assignment(1, 'uhCAkB', NOW + ms(5000))
    const bad = result(first, { x: 1 }, { output_hash: payloadHash({ x: 2 }) })
    const s = state({ claims: [claim('uhCAkB'), claim('uhCAkC')], assignments: [first], results: [bad] })
    // The output's signal may have been lost on a dropped connection: it is asked for again meanwhile.
    expect(planRequester(s, options())).toEqual({
      kind: 'wait',
      reason: 'attempt 1 answered; its output is on its way',
    })
    const afterLease = options({ now: NOW + ms(5300) })
    expect(planRequester(s, afterLease)).toMatchObject({
      kind: 'assign',
      attempt: 2,
      claim: { author: 'uhCAkC' },
    })
    const last = state({ claims: [claim('uhCAkB')], assignments: [first], results: [bad] }, 1)
    expect(planRequester(last, options()).kind).toBe('wait')
    expect(planRequester(last, afterLease)).toMatchObject({
      kind: 'receipt',
      receipt: {
        accepted: false,
        reason: 'uhCAkB never gave the output its result names to the requester',
        votes: [{ result: bad.action_hash, group: null, agree: false }],
      },
    })
  })

  it('does nothing for a cancelled, receipted or expired task', () => {
    const cancelled = state({
      cancellation: { action_hash: 'x', author: REQUESTER, timestamp: NOW, entry: { task: T, reason: '' } },
    })
    expect(planRequester(cancelled, options())).toEqual({ kind: 'finished' })
    const expired = state({ claims: [claim('uhCAkB')] })
    expect(planRequester(expired, options({ now: NOW + ms(61_000) }))).toEqual({ kind: 'finished' })
  })

  it('verifies author, assignment and hash of a result', () => {
    const a = assignment(1, 'uhCAkB', NOW)
    expect(verifyResult(result(a, 'ok'), a, 'ok')).toEqual({ accepted: true, reason: 'output hash verified' })
    expect(verifyResult({ ...result(a, 'ok'), author: 'uhCAkM' }, a, 'ok').accepted).toBe(false)
    // An output the assignee never gave the requester is not one it can accept, whatever the Result says.
    expect(verifyResult(result(a, 'ok'), a, undefined)).toEqual({
      accepted: false,
      reason: 'uhCAkB never gave the output its result names to the requester',
    })
    // Sealed on IPFS: checked the same way, the output opened with the key record its hash names.
    const sealed = { ...result(a, 'ok'), entry: { ...result(a, 'ok').entry, output_cid: 'bafyout' } }
    expect(verifyResult(sealed, a, 'ok')).toEqual({ accepted: true, reason: 'output hash verified' })
    expect(verifyResult(sealed, a, undefined)).toEqual({
      accepted: false,
      reason: 'the output at bafyout was not opened: uhCAkB never gave its key, or it could not be fetched',
    })
    expect(verifyResult(result(a, null, { status: 'error', error: 'boom' }), a, undefined)).toEqual({
      accepted: false,
      reason: 'the worker failed on uhCAkB: boom',
    })
  })
})

describe('the requester plan with fan-out', () => {
  const B = 'uhCAkB'
  const C = 'uhCAkC'
  const D = 'uhCAkD'
  const E = 'uhCAkE'
  const claims = [claim(B, 40), claim(C, 30), claim(D, 20), claim(E, 10)]
  const live = NOW + ms(5000)
  const lost = NOW - ms(500)
  const fanOut = (parts: Partial<TaskState>, maxAttempts = 2, task: Partial<Task> = {}) =>
    state({ claims, ...parts }, maxAttempts, { fan_out: 3, ...task })
  const text = (t: string) => ({ text: t, model: { name: 'tiny', file_hash: 'a'.repeat(64) } })

  it('assigns the best claims to the slots, a different claimant each, then waits on the leases', () => {
    const assigned: EntryRecord<Assignment>[] = []
    for (const [slot, who] of [B, C, D].entries()) {
      expect(planRequester(fanOut({ assignments: assigned }), options())).toMatchObject({
        kind: 'assign',
        slot,
        attempt: 1,
        claim: { author: who },
      })
      assigned.push(assignment(1, who, live, slot))
    }
    expect(planRequester(fanOut({ assignments: assigned }), options())).toEqual({
      kind: 'wait',
      reason: 'attempt 1 of slot 0 holds the lease',
    })
  })

  it("reassigns a slot whose lease ran out to a claimant not busy in another, as that slot's next attempt", () => {
    const slots = [assignment(1, B, live, 0), assignment(1, C, lost, 1), assignment(1, D, live, 2)]
    const answered = result(slots[0]!, text('yes'))
    expect(planRequester(fanOut({ assignments: slots, results: [answered] }), options())).toMatchObject({
      kind: 'assign',
      slot: 1,
      attempt: 2,
      claim: { author: E },
    })
    // Without a spare claimant, the slot retries on its own claimant rather than on a busy one.
    const fewer = fanOut({ claims: claims.slice(0, 3), assignments: slots, results: [answered] })
    expect(planRequester(fewer, options())).toMatchObject({ kind: 'assign', slot: 1, claim: { author: C } })
  })

  it('reduces the answers by agreement: the majority is chosen and each vote is recorded', () => {
    const slots = [assignment(1, B, live, 0), assignment(1, C, live, 1), assignment(1, D, live, 2)]
    const results = [
      { ...result(slots[0]!, text('Lyon')), timestamp: NOW - 3 },
      { ...result(slots[1]!, text('Paris.')), timestamp: NOW - 2 },
      { ...result(slots[2]!, text(' paris ')), timestamp: NOW - 1 },
    ]
    const step = planRequester(
      fanOut({ assignments: slots, results }, 2, { kind: 'infer.generate' }),
      options(),
    )
    expect(step).toEqual({
      kind: 'receipt',
      receipt: {
        task: T,
        result: results[1]!.action_hash,
        accepted: true,
        reason: '2 of 3 answers agree',
        usage: {
          duration_ms: 21,
          tokens: 21,
          output_bytes: results.reduce(
            (n, r) => n + JSON.stringify(given.get(r.entry.output_hash)).length,
            0,
          ),
        },
        votes: [
          { result: results[0]!.action_hash, assignee: B, group: 1, agree: false },
          { result: results[1]!.action_hash, assignee: C, group: 0, agree: true },
          { result: results[2]!.action_hash, assignee: D, group: 0, agree: true },
        ].map((v) => ({ ...v, model_file_hash: 'a'.repeat(64), similarity: null })),
      },
    })
  })

  it('breaks a tie by the earliest answer, and records a failed slot as a vote without a group', () => {
    const slots = [assignment(1, B, live, 0), assignment(1, C, live, 1), assignment(1, D, live, 2)]
    const results = [
      { ...result(slots[0]!, text('second')), timestamp: NOW - 1 },
      { ...result(slots[1]!, text('first')), timestamp: NOW - 2 },
      result(slots[2]!, null, { status: 'error', error: 'boom' }),
    ]
    const step = planRequester(
      fanOut({ assignments: slots, results }, 1, { kind: 'infer.generate' }),
      options(),
    )
    expect(step).toMatchObject({
      kind: 'receipt',
      receipt: {
        result: results[1]!.action_hash,
        accepted: true,
        reason: '1 of 2 answers agree; slot 2: the worker failed on uhCAkD: boom',
        votes: [
          { assignee: B, group: 1, agree: false },
          { assignee: C, group: 0, agree: true },
          { assignee: D, group: null, agree: false, model_file_hash: null },
        ],
      },
    })
  })

  it('gives up a slot nobody is left to claim once the others are settled and every node had its chance', () => {
    const slots = [assignment(1, B, live, 0), assignment(1, C, live, 1)]
    const results = slots.map((a) => result(a, { same: true }))
    const s = fanOut({ claims: claims.slice(0, 2), assignments: slots, results })
    expect(planRequester(s, options())).toEqual({ kind: 'wait', reason: 'first attempt; no claim to assign' })
    expect(planRequester(s, options({ now: NOW + ms(2_000) }))).toMatchObject({
      kind: 'receipt',
      receipt: { accepted: true, reason: '2 of 2 answers agree; 1 slot found no claimant' },
    })
  })

  it('finishes without a receipt when every slot ran out of attempts without a result', () => {
    const slots = [assignment(1, B, lost, 0), assignment(1, C, lost, 1), assignment(1, D, lost, 2)]
    expect(planRequester(fanOut({ assignments: slots }, 1), options())).toEqual({ kind: 'finished' })
  })
})
