/** What a round task's events tell a request's caller, step by step, as a table. */
import { describe, expect, it } from 'vitest'
import {
  RELAY_START,
  type RelayOptions,
  type RelayState,
  relayStep,
} from '../../../host/requests/round-relay.ts'
import type { TaskEvent } from '../../../host/scheduler/task-watch.ts'

const status = (status: 'open' | 'assigned' | 'done', attempt: number | null, assignee: string | null) =>
  ({ type: 'status', status, attempt, assignee }) as TaskEvent
const token = (assignee: string, text: string): TaskEvent => ({
  type: 'progress',
  assignee,
  progress: { type: 'token', data: text },
})
const load: TaskEvent = {
  type: 'progress',
  assignee: 'bob',
  progress: {
    type: 'load',
    data: { model: 'm', progress: { stage: 'load', done: 1, total: 2, unit: 'percent' } },
  },
}
const STREAMS: RelayOptions = { single: true, streams: true }
const taken = { assignee: 'bob', attempt: 1, streamed: null }
const begun = { assignee: 'bob', attempt: 1, streamed: 1 }

describe('relayStep', () => {
  it.each<[string, RelayState, TaskEvent, RelayOptions, ReturnType<typeof relayStep>]>([
    [
      'why it waits is told',
      RELAY_START,
      { type: 'waiting', reason: 'no claim yet', unclaimable: false },
      STREAMS,
      { state: RELAY_START, tell: { type: 'waiting', reason: 'no claim yet' }, giveUp: null },
    ],
    [
      'the first assignee is told, and kept',
      RELAY_START,
      status('assigned', 1, 'bob'),
      STREAMS,
      { state: taken, tell: { type: 'assigned', peer: 'bob' }, giveUp: null },
    ],
    [
      'a later assignee is not told again',
      taken,
      status('assigned', 2, 'carol'),
      STREAMS,
      { state: { ...taken, attempt: 2 }, tell: null, giveUp: null },
    ],
    [
      'the assignee’s token is relayed, and binds the answer to its attempt',
      taken,
      token('bob', 'Hi'),
      STREAMS,
      { state: begun, tell: { type: 'token', text: 'Hi' }, giveUp: null },
    ],
    [
      'a load is relayed without binding the answer',
      taken,
      load,
      STREAMS,
      {
        state: taken,
        tell: { type: 'load', model: 'm', progress: { stage: 'load', done: 1, total: 2, unit: 'percent' } },
        giveUp: null,
      },
    ],
    [
      'another peer’s token is not relayed',
      taken,
      token('carol', 'Hi'),
      STREAMS,
      { state: taken, tell: null, giveUp: null },
    ],
    [
      'fan-out’s tokens are not relayed',
      taken,
      token('bob', 'Hi'),
      { single: false, streams: true },
      { state: taken, tell: null, giveUp: null },
    ],
    [
      'a caller that takes the answer whole binds nothing',
      taken,
      token('bob', 'Hi'),
      { single: true, streams: false },
      { state: taken, tell: { type: 'token', text: 'Hi' }, giveUp: null },
    ],
    [
      'another attempt after the answer began gives the task up',
      begun,
      status('assigned', 2, 'bob'),
      STREAMS,
      {
        state: { ...begun, attempt: 2 },
        tell: null,
        giveUp: 'the peer answering it failed after its answer began streaming',
      },
    ],
    [
      'the end of the task with another attempt does not',
      begun,
      status('done', 2, 'bob'),
      STREAMS,
      { state: { ...begun, attempt: 2 }, tell: null, giveUp: null },
    ],
    [
      'tokens of a later attempt of the same peer are not relayed once an answer began',
      { ...begun, attempt: 2 },
      token('bob', 'again'),
      STREAMS,
      { state: { ...begun, attempt: 2 }, tell: null, giveUp: null },
    ],
  ])('%s', (_, state, event, options, step) => {
    expect(relayStep(state, event, options)).toEqual(step)
  })
})
