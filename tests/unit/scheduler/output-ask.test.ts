/**
 * A requester holding an ok Result whose output never reached it (the signal lost on a dropped
 * connection) asks the assignee again; the assignee gives what it gave before to the task's requester
 * only, and the Result is then accepted.
 */
import { describe, expect, it, vi } from 'vitest'
import { PayloadExchange } from '../../../host/scheduler/payload-exchange.ts'
import { PrivatePayloads } from '../../../host/scheduler/private-payloads.ts'
import { verifyResult } from '../../../host/scheduler/receipt.ts'
import type { Assignment, EntryRecord, TaskState } from '../../../zomes-bindings/index.ts'
import { fixedHash, okResult, task } from './fixtures.ts'

const REQUESTER = fixedHash(1, 'agent')
const ASSIGNEE = fixedHash(3, 'agent')
const STRANGER = fixedHash(4, 'agent')
const T = fixedHash(10, 'action')
const NOW = 1_000_000_000_000
const OUTPUT = { text: 'the whole answer' }

const attempt: EntryRecord<Assignment> = {
  action_hash: fixedHash(21, 'action'),
  author: REQUESTER,
  timestamp: NOW,
  entry: {
    task: T,
    claim: fixedHash(31, 'action'),
    assignee: ASSIGNEE,
    slot: 0,
    attempt: 1,
    lease_expires_at: NOW,
  },
}
const result = okResult(attempt, OUTPUT, NOW)
/** Both parties hold the task, its attempt and the Result (it travels by gossip). */
const state: TaskState = {
  task: { action_hash: T, author: REQUESTER, timestamp: NOW, entry: task() },
  claims: [],
  assignments: [attempt],
  results: [result],
  receipt: null,
  cancellation: null,
  status: 'assigned',
}

/** Two peers' exchanges over one in-memory bus; `sent` lists every signal as [from, to, type]. */
function pair() {
  const sent: [string, string, string][] = []
  const warned: string[] = []
  const exchanges = new Map<string, PayloadExchange>()
  const peer = (me: string) => {
    const store = new Map<string, unknown>()
    const conductor = {
      agentPubKey: me,
      sendSignal: async (dna: string, to: string, payload: { type: string }) => {
        sent.push([me, to, payload.type])
        exchanges.get(to)?.onSignal({ dna: dna as 'resource_mesh', from: me, payload })
      },
      callZome: async (_zome: string, fn: string, arg: { hash: string; content: unknown } | string) => {
        if (fn === 'keep_payload' && typeof arg === 'object') store.set(arg.hash, arg.content)
        if (fn === 'get_payload' && typeof arg === 'string') return store.get(arg) ?? null
        return null
      },
    }
    const payloads = new PrivatePayloads(conductor as never)
    const kept: string[] = []
    const exchange = new PayloadExchange({
      conductor: conductor as never,
      payloads,
      state: async (t) => (t === T ? state : null),
      onOutput: (t) => kept.push(t),
      logger: { debug: () => {}, warn: (_f: unknown, msg: string) => warned.push(`${me}: ${msg}`) } as never,
    })
    exchanges.set(me, exchange)
    return { exchange, payloads, kept }
  }
  return { requester: peer(REQUESTER), assignee: peer(ASSIGNEE), stranger: peer(STRANGER), sent, warned }
}

describe('PayloadExchange, an output asked for again', () => {
  it('gets the output the assignee kept, after its first give was lost, and the Result is accepted', async () => {
    const p = pair()
    // What giveOutput kept before its signal was lost on the way.
    await p.assignee.payloads.keep(OUTPUT)
    expect(await p.requester.payloads.get(result.entry.output_hash)).toBeUndefined()
    await p.requester.exchange.askOutput(T, attempt.action_hash, ASSIGNEE, Date.now() + 30_000)
    expect(p.requester.kept).toEqual([T])
    expect(p.sent).toEqual([
      [REQUESTER, ASSIGNEE, 'task-output-ask'],
      [ASSIGNEE, REQUESTER, 'task-output'],
    ])
    const kept = await p.requester.payloads.get(result.entry.output_hash)
    expect(verifyResult(result, attempt, kept)).toEqual({ accepted: true, reason: 'output hash verified' })
    // Kept once: asking again sends nothing.
    await p.requester.exchange.askOutput(T, attempt.action_hash, ASSIGNEE, Date.now() + 30_000)
    expect(p.sent).toHaveLength(2)
  })

  it('gives it to the task’s requester only', async () => {
    const p = pair()
    await p.assignee.payloads.keep(OUTPUT)
    await p.stranger.exchange.askOutput(T, attempt.action_hash, ASSIGNEE, Date.now() + 100)
    await vi.waitFor(() => expect(p.warned).toHaveLength(1))
    expect(p.warned).toEqual([
      `${ASSIGNEE}: an output asked for by a peer not its requester, or of no result of this peer`,
    ])
    expect(p.sent).toEqual([[STRANGER, ASSIGNEE, 'task-output-ask']])
    expect(p.stranger.kept).toEqual([])
  })

  it('asks nothing once the lease is over', async () => {
    const p = pair()
    await p.requester.exchange.askOutput(T, attempt.action_hash, ASSIGNEE, Date.now() - 1)
    expect(p.sent).toEqual([])
  })
})
