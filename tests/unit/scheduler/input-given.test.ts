/**
 * A requester sends a task's input to the agent it just assigned, so the attempt need not ask: the
 * assignee takes an input given early only from the task's requester and only with the task's hash;
 * any other is not taken, and the attempt asks the requester as before.
 */
import { describe, expect, it } from 'vitest'
import type { Signal } from '../../../host/interface/conductor-port.ts'
import { PayloadExchange } from '../../../host/scheduler/payload-exchange.ts'
import { PrivatePayloads } from '../../../host/scheduler/private-payloads.ts'
import { fixedHash, task } from './fixtures.ts'

const REQUESTER = fixedHash(1, 'agent')
const ASSIGNEE = fixedHash(2, 'agent')
const STRANGER = fixedHash(3, 'agent')
const T = fixedHash(10, 'action')
const ASSIGNMENT = fixedHash(11, 'action')
const INPUT = { message: 'hello' }

/** A PayloadExchange as `me`, recording the signals it sends; `payloads` held in memory only. */
function peer(me: string) {
  const sent: { to: string; payload: { type: string; content?: unknown } }[] = []
  const conductor = {
    agentPubKey: me,
    sendSignal: async (_dna: string, to: string, payload: { type: string }) => {
      sent.push({ to, payload })
    },
    callZome: async () => null,
  }
  const payloads = new PrivatePayloads(conductor as never)
  const logger = { debug: () => {}, warn: () => {} }
  const exchange = new PayloadExchange({
    conductor: conductor as never,
    payloads,
    state: async () => null,
    onOutput: () => {},
    logger: logger as never,
  })
  const receive = (from: string, payload: unknown) =>
    exchange.onSignal({ dna: 'resource_mesh', from, payload } as Signal)
  return { exchange, payloads, sent, receive }
}

const record = (input: unknown = INPUT) => ({ action_hash: T, author: REQUESTER, entry: task({ input }) })

describe('an input given with the assignment', () => {
  it('is sent by the requester to the assignee only, and only when small', async () => {
    const requester = peer(REQUESTER)
    await requester.payloads.keep(INPUT)
    await requester.exchange.giveInput(record(), ASSIGNEE)
    await requester.exchange.giveInput(record(), REQUESTER)
    expect(requester.sent).toEqual([
      { to: ASSIGNEE, payload: { type: 'task-input', task: T, content: INPUT } },
    ])
    const large = { message: 'x'.repeat(70 * 1024) }
    await requester.payloads.keep(large)
    await requester.exchange.giveInput(record(large), ASSIGNEE)
    expect(requester.sent).toHaveLength(1)
  })

  it("is taken by the assignee's attempt without asking", async () => {
    const assignee = peer(ASSIGNEE)
    expect(assignee.receive(REQUESTER, { type: 'task-input', task: T, content: INPUT })).toBe(true)
    await new Promise((resolve) => setImmediate(resolve))
    const input = await assignee.exchange.input(record(), ASSIGNMENT, new AbortController().signal)
    expect(input).toEqual(INPUT)
    expect(assignee.sent).toEqual([])
  })

  for (const [what, from, content] of [
    ['from another agent than the requester', STRANGER, INPUT],
    ['that is not the task input', REQUESTER, { message: 'planted' }],
  ] as const) {
    it(`is not taken ${what}: the attempt asks`, async () => {
      const assignee = peer(ASSIGNEE)
      assignee.receive(from, { type: 'task-input', task: T, content })
      await new Promise((resolve) => setImmediate(resolve))
      const stop = new AbortController()
      const asked = assignee.exchange.input(record(), ASSIGNMENT, stop.signal)
      await new Promise((resolve) => setImmediate(resolve))
      expect(assignee.sent.map((s) => [s.to, s.payload.type])).toEqual([[REQUESTER, 'task-input-ask']])
      stop.abort(new Error('test over'))
      await expect(asked).rejects.toThrow('test over')
    })
  }
})
