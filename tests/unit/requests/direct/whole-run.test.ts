/**
 * A caller that takes its answer whole (a JSON reply, not a stream) says so in the offer, and the
 * runner's worker is told (WorkerContext.whole): it may make the answer whole, without text frames
 * (its engine asked for it whole, on a kept connection). A runner of version 1 has no room for it in
 * its frames and is not told; a caller reading the text as it comes is sent it as before.
 */
import { describe, expect, it } from 'vitest'
import type { RunProgress } from '../../../../host/interface/run-event.ts'
import { DIRECT_PROTOCOL_V1 } from '../../../../host/requests/direct/direct-wire.ts'
import type { Worker } from '../../../../host/workers/worker.ts'
import { A, FakeMesh, MODEL, peer, requester, runner } from './direct-fixtures.ts'

/** A worker that sends its text only to a requester that reads it as it comes, and says what it was told. */
function telling(told: (boolean | undefined)[]): Worker['run'] {
  return async (_input, ctx) => {
    told.push(ctx.whole)
    if (!ctx.whole) ctx.onEvent({ type: 'token', text: 'Oslo' })
    return { output: { text: 'Oslo' } }
  }
}

async function run(mesh: FakeMesh, whole: boolean) {
  const heard: RunProgress['type'][] = []
  const answer = await requester(mesh, [peer(A, 2)]).inference.run({
    kind: 'infer.generate',
    model: MODEL,
    input: { prompt: 'hi' },
    signal: AbortSignal.timeout(10_000),
    onEvent: (event) => void heard.push(event.type),
    ...(whole && { whole: true }),
  })
  return { heard, output: answer.output }
}

describe('an answer taken whole', () => {
  it("reaches the runner's worker as asked, and the answer comes without text frames", async () => {
    const mesh = new FakeMesh()
    const told: (boolean | undefined)[] = []
    await runner(mesh, A, undefined, telling(told))
    expect(await run(mesh, true)).toEqual({ heard: ['submitted', 'assigned'], output: { text: 'Oslo' } })
    expect(await run(mesh, false)).toEqual({
      heard: ['submitted', 'assigned', 'token'],
      output: { text: 'Oslo' },
    })
    expect(told).toEqual([true, undefined])
  })

  it('is not asked of a runner of version 1, whose frames have no room for it', async () => {
    const mesh = new FakeMesh()
    const told: (boolean | undefined)[] = []
    await runner(mesh, A, undefined, telling(told), { speaks: [DIRECT_PROTOCOL_V1] })
    expect((await run(mesh, true)).output).toEqual({ text: 'Oslo' })
    expect(told).toEqual([undefined])
  })
})
