/**
 * A requester keeps a task output only from the assignee of a live attempt, once, within the limit,
 * salted as the task's input was.
 */
import { describe, expect, it, vi } from 'vitest'
import { payloadHash } from '../../../host/identity/payload-hash.ts'
import { PayloadExchange } from '../../../host/scheduler/payload-exchange.ts'
import { PrivatePayloads } from '../../../host/scheduler/private-payloads.ts'
import { verifyResult } from '../../../host/scheduler/receipt.ts'
import { salted } from '../../../host/scheduler/salted-payload.ts'
import { type Assignment, type EntryRecord, LIMITS, type TaskState } from '../../../zomes-bindings/index.ts'
import { fixedHash, okResult, task } from './fixtures.ts'

const ME = fixedHash(1, 'agent')
const PAST = fixedHash(2, 'agent')
const LIVE = fixedHash(3, 'agent')
const STRANGER = fixedHash(4, 'agent')
const T = fixedHash(10, 'action')
const NOW = 1_000_000_000_000

function assignment(attempt: number, assignee: string): EntryRecord<Assignment> {
  return {
    action_hash: fixedHash(20 + attempt, 'action'),
    author: ME,
    timestamp: NOW,
    entry: {
      task: T,
      claim: fixedHash(30 + attempt, 'action'),
      assignee,
      slot: 0,
      attempt,
      lease_expires_at: NOW,
    },
  }
}

/** Attempt 1 went to PAST, and was reassigned: attempt 2 is LIVE's. */
const reassigned = assignment(1, PAST)
const current = assignment(2, LIVE)
const state: TaskState = {
  task: { action_hash: T, author: ME, timestamp: NOW, entry: task() },
  claims: [],
  assignments: [reassigned, current],
  results: [],
  receipt: null,
  cancellation: null,
  status: 'assigned',
}

function requester(held: TaskState) {
  const writes: unknown[] = []
  const dropped: { from: string; why: string }[] = []
  const outputs: string[] = []
  const conductor = {
    agentPubKey: ME,
    sendSignal: async () => {},
    callZome: async (_zome: string, fn: string, arg: unknown) => {
      if (fn === 'keep_payload') writes.push(arg)
      return null
    },
  }
  const payloads = new PrivatePayloads(conductor as never)
  const logger = {
    debug: (fields: { from: string; why: string }) => dropped.push({ from: fields.from, why: fields.why }),
    warn: () => {},
  }
  const exchange = new PayloadExchange({
    conductor: conductor as never,
    payloads,
    state: async (t) => (t === T ? held : null),
    onOutput: (t) => outputs.push(t),
    logger: logger as never,
  })
  const output = (from: string, attempt: EntryRecord<Assignment>, content: unknown) =>
    exchange.onSignal({
      dna: 'resource_mesh',
      from,
      payload: { type: 'task-output', task: T, assignment: attempt.action_hash, content },
    })
  return { writes, dropped, outputs, payloads, output }
}

describe('PayloadExchange, outputs given to the requester', () => {
  it('writes nothing for a past assignee, a non-assignee or an output above the limit', async () => {
    const r = requester(state)
    expect(r.output(PAST, reassigned, { text: 'from the reassigned attempt' })).toBe(true)
    r.output(STRANGER, current, { text: 'from no assignee' })
    r.output(LIVE, current, 'x'.repeat(LIMITS.task.payload_json_bytes.max + 1))
    await vi.waitFor(() => expect(r.dropped).toHaveLength(3))
    expect(r.writes).toEqual([])
    expect(r.outputs).toEqual([])
    expect(r.dropped).toEqual([
      { from: PAST, why: 'not a live attempt of the task' },
      { from: STRANGER, why: 'not from the assignee of the attempt' },
      {
        from: LIVE,
        why: `${LIMITS.task.payload_json_bytes.max + 3} bytes of JSON, above the ${LIMITS.task.payload_json_bytes.max} a signal carries`,
      },
    ])
  })

  it("keeps the live assignee's output once per attempt, before its Result, which is then accepted", async () => {
    const r = requester(state)
    // Two outputs for the same attempt at once: the first is kept, the second dropped unwritten.
    r.output(LIVE, current, { text: 'the answer' })
    r.output(LIVE, current, { text: 'another answer' })
    await vi.waitFor(() => expect(r.outputs.length + r.dropped.length).toBe(2))
    expect(r.writes).toEqual([{ hash: payloadHash({ text: 'the answer' }), content: { text: 'the answer' } }])
    expect(r.outputs).toEqual([T])
    expect(r.dropped).toEqual([{ from: LIVE, why: 'an output of this attempt is kept already' }])
    const result = okResult(current, { text: 'the answer' }, NOW)
    const kept = await r.payloads.get(result.entry.output_hash)
    expect(verifyResult(result, current, kept)).toEqual({ accepted: true, reason: 'output hash verified' })
  })

  it('writes nothing once the task is over, nor for a task that is not its own', async () => {
    const cancelled = requester({
      ...state,
      cancellation: {
        action_hash: fixedHash(50, 'action'),
        author: ME,
        timestamp: NOW,
        entry: { task: T, reason: 'x' },
      },
    })
    cancelled.output(LIVE, current, { text: 'too late' })
    const notMine = requester({ ...state, task: { ...state.task, author: STRANGER } })
    notMine.output(LIVE, current, { text: 'for another requester' })
    await vi.waitFor(() => expect([...cancelled.dropped, ...notMine.dropped]).toHaveLength(2))
    expect([...cancelled.writes, ...notMine.writes]).toEqual([])
    expect(cancelled.dropped[0]?.why).toBe('the task is over')
    expect(notMine.dropped[0]?.why).toBe('not a task of this peer')
  })

  it('keeps an output of a salted task only salted with its salt', async () => {
    const input = salted({ data: 'hello' }, 'ab'.repeat(32))
    const saltedTask = { ...state.task, entry: task({ input_hash: payloadHash(input) }) }
    const r = requester({ ...state, task: saltedTask })
    await r.payloads.keep(input)
    r.output(LIVE, current, { text: 'unsalted' })
    r.output(LIVE, current, salted({ text: 'another salt' }, 'cd'.repeat(32)))
    await vi.waitFor(() => expect(r.dropped).toHaveLength(2))
    const answer = salted({ text: 'the answer' }, 'ab'.repeat(32))
    r.output(LIVE, current, answer)
    await vi.waitFor(() => expect(r.outputs).toEqual([T]))
    expect(r.dropped.map((d) => d.why)).toEqual(Array(2).fill('not salted with the task’s salt'))
    expect(r.writes).toEqual([input, answer].map((content) => ({ hash: payloadHash(content), content })))
  })
})
