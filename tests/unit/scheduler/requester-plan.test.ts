import { describe, expect, it } from 'vitest'
import { outputHash } from '../../../host/scheduler/output-hash.ts'
import { type PlanOptions, planRequester, verifyResult } from '../../../host/scheduler/requester-plan.ts'
import type { Assignment, Claim, EntryRecord, TaskResult, TaskState } from '../../../zomes-bindings/index.ts'
import { task as taskEntry } from './fixtures.ts'

const NOW = 1_000_000_000_000
const ms = (n: number) => n * 1000
const T = 'uhCkkTask'
const REQUESTER = 'uhCAkRequester'

function claim(author: string, timestamp = NOW): EntryRecord<Claim> {
  const snapshot = {
    cores: 4,
    ram_bytes: 16,
    vram_bytes: 0,
    gpu_count: 0,
    models: [],
    loaded_models: [],
    tags: [],
    queue_depth: 0,
  }
  return { action_hash: `uhCkkClaim${author}`, author, timestamp, entry: { task: T, snapshot } }
}

function assignment(attempt: number, assignee: string, leaseExpiresAt: number): EntryRecord<Assignment> {
  return {
    action_hash: `uhCkkAssignment${attempt}`,
    author: REQUESTER,
    timestamp: NOW,
    entry: { task: T, claim: `uhCkkClaim${assignee}`, assignee, attempt, lease_expires_at: leaseExpiresAt },
  }
}

function result(
  of: EntryRecord<Assignment>,
  output: unknown,
  overrides: Partial<TaskResult> = {},
): EntryRecord<TaskResult> {
  return {
    action_hash: `uhCkkResult${of.entry.attempt}`,
    author: of.entry.assignee,
    timestamp: NOW,
    entry: {
      task: T,
      assignment: of.action_hash,
      status: 'ok',
      output: output as TaskResult['output'],
      output_cid: null,
      output_hash: outputHash(output),
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

function state(parts: Partial<TaskState> = {}, maxAttempts = 2): TaskState {
  return {
    task: {
      action_hash: T,
      author: REQUESTER,
      timestamp: NOW,
      entry: taskEntry({ max_attempts: maxAttempts, deadline: NOW + ms(60_000) }),
    },
    claims: [],
    assignments: [],
    results: [],
    receipt: null,
    cancellation: null,
    status: 'submitted',
    ...parts,
  }
}

const options = (overrides: Partial<PlanOptions> = {}): PlanOptions => ({
  now: NOW,
  firstClaimSeenAt: NOW - ms(1000),
  claimWindowMs: 200,
  leaseGraceMs: 100,
  refused: new Set(),
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

  it('leaves a live lease alone, and reassigns to the next claimant once it and the grace ran out', () => {
    const first = assignment(1, 'uhCAkB', NOW - ms(50))
    const s = state({ claims: [claim('uhCAkB'), claim('uhCAkC')], assignments: [first] })
    expect(planRequester(s, options())).toMatchObject({ kind: 'wait', reason: 'attempt 1 holds the lease' })
    const later = planRequester(s, options({ now: NOW + ms(60) }))
    expect(later).toMatchObject({ kind: 'assign', attempt: 2, claim: { author: 'uhCAkC' } })
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
      },
    })
  })

  it('moves on from a failed or forged-looking result while attempts remain, then gives a failing receipt', () => {
    const first = assignment(1, 'uhCAkB', NOW + ms(5000))
    const bad = result(first, { x: 1 }, { output_hash: outputHash({ x: 2 }) })
    const s = state({ claims: [claim('uhCAkB'), claim('uhCAkC')], assignments: [first], results: [bad] })
    expect(planRequester(s, options())).toMatchObject({
      kind: 'assign',
      attempt: 2,
      claim: { author: 'uhCAkC' },
    })
    const last = state({ claims: [claim('uhCAkB')], assignments: [first], results: [bad] }, 1)
    expect(planRequester(last, options())).toMatchObject({
      kind: 'receipt',
      receipt: { accepted: false, reason: 'the output does not match output_hash' },
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
    expect(verifyResult(result(a, 'ok'), a)).toEqual({ accepted: true, reason: 'output hash verified' })
    expect(verifyResult({ ...result(a, 'ok'), author: 'uhCAkM' }, a).accepted).toBe(false)
    expect(verifyResult(result(a, null, { status: 'error', error: 'boom' }), a)).toEqual({
      accepted: false,
      reason: 'the worker failed: boom',
    })
  })
})
