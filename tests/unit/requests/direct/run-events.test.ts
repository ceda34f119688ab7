/**
 * A run's events over the direct route, as they are (interface/run-event.ts): the requester hears the
 * request named, the runner's load, then `assigned` as its answer begins, then its reasoning, text and
 * tool calls. Version 1 (a requester of release 0.1.0 reads its frames strictly) is sent no load and no
 * call; a requester of version 2 is sent the kinds it lists as read, so one of an earlier release hears
 * no call in pieces (its answer has it whole). A load begins no answer, so a runner that fails after it
 * still passes the request on.
 */
import { describe, expect, it } from 'vitest'
import type { RunProgress } from '../../../../host/interface/run-event.ts'
import { digestRequest, newDirectRequest } from '../../../../host/requests/direct/direct-request.ts'
import {
  DIRECT_PROTOCOL_V1,
  DIRECT_PROTOCOL_V2,
  jsonFrames,
  RunnerFrameSchema,
} from '../../../../host/requests/direct/direct-wire.ts'
import type { Worker } from '../../../../host/workers/worker.ts'
import { A, B, FakeMesh, ME, MODEL, peer, requester, runner } from './direct-fixtures.ts'

const loaded = { stage: 'load', done: 100, total: 100, unit: 'percent' } as const

const thinking: Worker['run'] = async (_input, ctx) => {
  ctx.onEvent({ type: 'load', model: MODEL, progress: loaded })
  ctx.onEvent({ type: 'reasoning', text: 'hm' })
  ctx.onEvent({ type: 'token', text: 'Oslo' })
  ctx.onEvent({ type: 'tool-call', index: 0, name: 'weather', arguments: '{"city":"Oslo"}' })
  return { output: { text: 'Oslo', reasoning: 'hm' } }
}

async function events(mesh: FakeMesh, peers: ReturnType<typeof peer>[]) {
  const heard: RunProgress[] = []
  const answer = await requester(mesh, peers).inference.run({
    kind: 'infer.generate',
    model: MODEL,
    input: { prompt: 'hi' },
    signal: AbortSignal.timeout(10_000),
    onEvent: (event) => void heard.push(event),
  })
  return { heard: heard.map((e) => (e.type === 'submitted' ? { type: e.type } : e)), answer }
}

describe("a direct run's events", () => {
  it('reach the requester as the worker made them, `assigned` when the answer begins', async () => {
    const mesh = new FakeMesh()
    await runner(mesh, A, undefined, thinking)
    const { heard, answer } = await events(mesh, [peer(A, 2)])
    expect(heard).toEqual([
      { type: 'submitted' },
      { type: 'load', model: MODEL, progress: loaded },
      { type: 'assigned', peer: A },
      { type: 'reasoning', text: 'hm' },
      { type: 'token', text: 'Oslo' },
      { type: 'tool-call', index: 0, name: 'weather', arguments: '{"city":"Oslo"}' },
    ])
    expect(answer.output).toEqual({ text: 'Oslo', reasoning: 'hm' })
  })

  it('send a runner of version 1 no load and no call: its frames are the ones release 0.1.0 reads', async () => {
    const mesh = new FakeMesh()
    await runner(mesh, A, undefined, thinking, { speaks: [DIRECT_PROTOCOL_V1] })
    const { heard } = await events(mesh, [peer(A, 2)])
    expect(heard.map((e) => e.type)).toEqual(['submitted', 'assigned', 'reasoning', 'token'])
  })

  it('send a requester of version 2 that lists no later kinds (an earlier release) no call in pieces', async () => {
    const mesh = new FakeMesh()
    await runner(mesh, A, undefined, thinking)
    const request = newDirectRequest('infer.generate', MODEL, { prompt: 'hi' })
    const frames = jsonFrames(await mesh.port(ME).open(A, DIRECT_PROTOCOL_V2))
    await frames.write({
      offer: { kind: request.kind, model: MODEL, ...digestRequest(request, ME) },
      queue: false,
    })
    const types: string[] = []
    for (;;) {
      const frame = RunnerFrameSchema.parse(await frames.read())
      types.push(frame.type)
      if (frame.type === 'ready') await frames.write({ request })
      if (frame.type === 'done') break
    }
    expect(types).toEqual(['ready', 'accepted', 'load', 'reasoning', 'token', 'done'])
  })

  it('pass the request on when a runner fails after its load, before its answer began', async () => {
    const mesh = new FakeMesh()
    await runner(mesh, A, undefined, async (_input, ctx) => {
      ctx.onEvent({ type: 'load', model: MODEL, progress: loaded })
      throw new Error('the engine crashed while loading')
    })
    await runner(mesh, B)
    const { heard, answer } = await events(mesh, [peer(A, 8), peer(B, 2)])
    expect(answer.peer).toBe(B)
    expect(heard.filter((e) => e.type === 'assigned')).toEqual([{ type: 'assigned', peer: B }])
  })
})
