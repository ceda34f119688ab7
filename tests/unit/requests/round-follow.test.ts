/**
 * A request on the scheduling round, followed through the scheduler's watch as every task follower
 * follows (scheduler/task-follow.ts): tokens relayed from the assignee, the accepted output answered,
 * and a task given up (unclaimable, not taken in time, its client gone) cancelled with why, its view
 * read before the cancellation.
 */
import { describe, expect, it } from 'vitest'
import type { PeerEntry } from '../../../host/interface/live-peers.ts'
import type { RunProgress } from '../../../host/interface/run-event.ts'
import type { InferenceRequest } from '../../../host/requests/requests-port.ts'
import { RequestRunner } from '../../../host/requests/run-request.ts'
import type { TaskEvent, TaskView } from '../../../host/scheduler/scheduler-service.ts'

const peer = {
  agent: 'uhCAkPEER',
  self: false,
  status: 'online',
  capability: {
    inference: { models: [{ name: 'tiny', loaded: true, file_hash: 'a'.repeat(64) }] },
    tags: [],
  },
  load: null,
} as unknown as PeerEntry

const view = (status: string, extra: Record<string, unknown> = {}) =>
  ({
    state: {
      status,
      assignments: [],
      results: [],
      receipt: null,
      cancellation: null,
      ...extra,
    },
    why_unclaimed: 'no peer has a slot',
    payloads: { outputs: {} },
  }) as unknown as TaskView

/** A scheduler whose task's events the test sends; it records cancellations. */
function round(assignTimeoutMs = 10_000) {
  let listener: ((event: TaskEvent) => void) | null = null
  let current = view('pending')
  const cancelled: string[] = []
  const scheduler = {
    submit: async () => ({ action_hash: 'uhCkkTASK' }),
    view: async () => current,
    cancel: async (_hash: string, reason: string) => {
      cancelled.push(reason)
      current = view('cancelled')
    },
    watch: (_hash: string, on: (event: TaskEvent) => void) => {
      listener = on
      return () => {
        listener = null
      }
    },
  }
  const runner = new RequestRunner({
    scheduler: scheduler as never,
    workers: { get: () => undefined },
    peers: async () => [peer],
    assignTimeoutMs,
  })
  const send = async (event: TaskEvent, then?: TaskView) => {
    await new Promise((resolve) => setTimeout(resolve, 1))
    if (then) current = then
    listener?.(event)
  }
  return { runner, send, cancelled, watching: () => listener !== null }
}

const request = (extra: Partial<InferenceRequest> = {}): InferenceRequest => ({
  kind: 'infer.generate',
  model: 'tiny',
  input: { prompt: 'hi' },
  fanOut: 1,
  route: 'round',
  signal: new AbortController().signal,
  ...extra,
})

describe('a request on the round', () => {
  it("relays the assignee's events as the run's own and answers the accepted output", async () => {
    const { runner, send, watching } = round()
    const events: RunProgress[] = []
    const run = runner.run(request({ onEvent: (e) => void events.push(e) }))
    await send({ type: 'status', status: 'running', attempt: 1, assignee: 'uhCAkPEER' })
    const loaded = { stage: 'load', done: 100, total: 100, unit: 'percent' } as const
    await send({
      type: 'progress',
      assignee: 'uhCAkPEER',
      progress: { type: 'load', data: { model: 'tiny', progress: loaded } },
    })
    await send({ type: 'progress', assignee: 'uhCAkPEER', progress: { type: 'token', data: 'he' } })
    // A kind this release does not know is passed over.
    await send({ type: 'progress', assignee: 'uhCAkPEER', progress: { type: 'percent', data: 5 } })
    await send({ type: 'progress', assignee: 'uhCAkOTHER', progress: { type: 'token', data: 'x' } })
    const done = view('done', {
      results: [{ action_hash: 'r', author: 'uhCAkPEER', entry: { error: null, output_cid: null } }],
      receipt: { entry: { result: 'r' } },
    })
    ;(done.payloads.outputs as Record<string, unknown>).r = 'hello'
    await send({ type: 'status', status: 'done', attempt: 1, assignee: 'uhCAkPEER' }, done)
    await expect(run).resolves.toEqual({ task: 'uhCkkTASK', peer: 'uhCAkPEER', output: 'hello' })
    expect(events).toEqual([
      { type: 'submitted', task: 'uhCkkTASK' },
      { type: 'assigned', peer: 'uhCAkPEER' },
      { type: 'load', model: 'tiny', progress: loaded },
      { type: 'token', text: 'he' },
    ])
    expect(watching()).toBe(false)
  })

  it("cancels a task no peer will claim with the scheduler's reason, answering why from before", async () => {
    const { runner, send, cancelled } = round()
    const waits: string[] = []
    const run = runner.run(request({ onEvent: (e) => void (e.type === 'waiting' && waits.push(e.reason)) }))
    await send({ type: 'waiting', reason: 'no peer has the model', unclaimable: true })
    await expect(run).rejects.toMatchObject({ failureKind: 'unavailable', message: /no peer has a slot/ })
    expect(cancelled).toEqual(['nobody can serve it: no peer has the model'])
    expect(waits).toEqual(['no peer has the model'])
  })

  it('gives up a task no peer took in time', async () => {
    const { runner, cancelled } = round(20)
    await expect(runner.run(request())).rejects.toMatchObject({ failureKind: 'unavailable' })
    expect(cancelled).toEqual(['no peer took it in time'])
  })

  it('cancels the task when its client goes away', async () => {
    const { runner, send, cancelled } = round()
    const client = new AbortController()
    const run = runner.run(request({ signal: client.signal }))
    await send({ type: 'waiting', reason: 'no slot yet', unclaimable: false })
    client.abort()
    await expect(run).rejects.toMatchObject({ failureKind: 'unavailable' })
    expect(cancelled).toEqual(['the client went away'])
  })

  it('gives up a task whose answer began streaming when another attempt starts, and says so', async () => {
    const { runner, send, cancelled } = round()
    const run = runner.run(request({ onEvent: () => undefined }))
    await send({ type: 'status', status: 'running', attempt: 1, assignee: 'uhCAkPEER' })
    await send({ type: 'progress', assignee: 'uhCAkPEER', progress: { type: 'token', data: 'he' } })
    await send(
      { type: 'status', status: 'assigned', attempt: 2, assignee: 'uhCAkOTHER' },
      view('assigned', { assignments: [{}, {}] }),
    )
    const why = 'the peer answering it failed after its answer began streaming'
    await expect(run).rejects.toMatchObject({
      failureKind: 'failed/upstream',
      message: new RegExp(`assigned: ${why}$`),
    })
    expect(cancelled).toEqual([why])
  })
})
