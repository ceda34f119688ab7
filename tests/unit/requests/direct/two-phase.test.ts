/**
 * The direct protocol's two phases (direct-infer/2.0.0) on the fake mesh (direct-fixtures.ts): a runner
 * whose policies or slots refuse the offer never reads the prompt, and the request goes on to the next
 * runner; a slot is held from `ready` until the request runs or never comes; a request other than the
 * one offered is refused. Release 0.1.0 speaks version 1 only: a runner of it is still served by this
 * requester, and a requester of it by this runner.
 */
import { describe, expect, it } from 'vitest'
import { NO_POLICY_VERDICT } from '../../../../host/policy/cedar-engine.ts'
import type { DecisionInput } from '../../../../host/policy/run-question.ts'
import { digestRequest, newDirectRequest } from '../../../../host/requests/direct/direct-request.ts'
import { RUN_LIMIT_MS } from '../../../../host/requests/direct/direct-runner.ts'
import {
  DIRECT_PROTOCOL_V1,
  DIRECT_PROTOCOL_V2,
  jsonFrames,
  RunnerFrameSchema,
} from '../../../../host/requests/direct/direct-wire.ts'
import { NO_REQUIREMENTS } from '../../../../zomes-bindings/index.ts'
import { A, ask, B, FakeMesh, ME, MODEL, peer, requester, runner } from './direct-fixtures.ts'

const SECRET = 'the secret prompt'

/** Opens `protocol` to `agent` as `me` would, by hand, and reads the runner's frames as they come. */
async function openTo(mesh: FakeMesh, agent: string, protocol: string) {
  const frames = jsonFrames(await mesh.port(ME).open(agent, protocol))
  return { frames, next: async () => RunnerFrameSchema.parse(await frames.read()) }
}

/** An offer of a request for `prompt`, as the requester sends it, and the request itself. */
function offerOf(prompt: string) {
  const request = newDirectRequest('infer.generate', MODEL, { prompt })
  return { request, offer: { kind: request.kind, model: MODEL, ...digestRequest(request, ME) } }
}

describe('the two phases of a direct request', () => {
  it('sends no prompt to a runner whose policy refuses the offer, and runs it at the next', async () => {
    const mesh = new FakeMesh()
    const decided: DecisionInput[] = []
    const denied = await runner(mesh, A, undefined, undefined, {
      decide: async (input) => {
        decided.push(input)
        return { ...NO_POLICY_VERDICT, allowed: false, reason: 'no work for strangers' }
      },
    })
    const runs = await runner(mesh, B)
    const { inference } = requester(mesh, [peer(A, 8), peer(B, 2)])
    const answer = await ask(inference, SECRET)
    expect(answer).toMatchObject({ peer: B, output: { text: `echo: ${SECRET}` } })
    expect(inference.stats()).toMatchObject({ failovers: 1 })
    // A's policy judged the request by its hash and size (one run, for one answer), and A read its
    // offer, never its prompt.
    expect(decided[0]?.run).toEqual({
      id: answer.request,
      requester: ME,
      kind: 'infer.generate',
      requirements: { ...NO_REQUIREMENTS, model: MODEL },
      input_bytes: JSON.stringify({ prompt: SECRET }).length,
      lease_ms: RUN_LIMIT_MS,
      max_attempts: 1,
      fan_out: 1,
    })
    expect(mesh.readBy(A)).toContain(answer.request)
    expect(mesh.readBy(A)).not.toContain(SECRET)
    expect(denied).toEqual([])
    expect(mesh.readBy(B)).toContain(SECRET)
    expect(runs).toEqual([SECRET])
  })

  it('sends no prompt to a runner with every slot busy', async () => {
    const mesh = new FakeMesh()
    await runner(mesh, A, () => ({ slots: 1, busy: 1 }))
    await runner(mesh, B)
    const { inference } = requester(mesh, [peer(A, 8), peer(B, 2)])
    expect(await ask(inference, SECRET)).toMatchObject({ peer: B })
    expect(mesh.readBy(A)).not.toContain(SECRET)
  })

  it('holds a slot from ready until the request comes, and frees it when none does', async () => {
    const mesh = new FakeMesh()
    const runs = await runner(mesh, A, () => ({ slots: 1, busy: 0 }))
    const first = await openTo(mesh, A, DIRECT_PROTOCOL_V2)
    await first.frames.write({ offer: offerOf('one').offer, queue: false })
    expect(await first.next()).toEqual({ type: 'ready' })
    // The one slot is held for the first offer: a second is refused as busy, before any prompt.
    const second = await openTo(mesh, A, DIRECT_PROTOCOL_V2)
    await second.frames.write({ offer: offerOf('two').offer, queue: false })
    expect(await second.next()).toMatchObject({ type: 'refused', why: 'busy' })
    // The first sends no request: refused, and its slot freed before the refusal is sent.
    await first.frames.write({ not: 'a request' })
    expect(await first.next()).toMatchObject({
      type: 'refused',
      why: 'invalid',
      message: 'not a direct request',
    })
    const third = await openTo(mesh, A, DIRECT_PROTOCOL_V2)
    const { request, offer } = offerOf('three')
    await third.frames.write({ offer, queue: false })
    expect(await third.next()).toEqual({ type: 'ready' })
    await third.frames.write({ request })
    expect(await third.next()).toEqual({ type: 'accepted' })
    expect(await third.next()).toEqual({ type: 'token', text: 'echo' })
    expect(await third.next()).toMatchObject({ type: 'done', output: { text: 'echo: three' } })
    expect(runs).toEqual(['three'])
  })

  it('refuses a request that is not the one offered, and runs nothing', async () => {
    const mesh = new FakeMesh()
    const runs = await runner(mesh, A)
    const { frames, next } = await openTo(mesh, A, DIRECT_PROTOCOL_V2)
    await frames.write({ offer: offerOf('a small question').offer, queue: false })
    expect(await next()).toEqual({ type: 'ready' })
    await frames.write({ request: offerOf('a much longer question than the one offered').request })
    expect(await next()).toEqual({
      type: 'refused',
      why: 'invalid',
      message: 'the request is not the one offered: its input is not the one offered',
    })
    expect(runs).toEqual([])
  })

  it('serves a runner of release 0.1.0 (version 1 only): it is sent the request at once', async () => {
    const mesh = new FakeMesh()
    const runs = await runner(mesh, A, undefined, undefined, { speaks: [DIRECT_PROTOCOL_V1] })
    const { inference } = requester(mesh, [peer(A, 2)])
    const answer = await ask(inference, SECRET)
    expect(answer).toMatchObject({ peer: A, output: { text: `echo: ${SECRET}` } })
    expect(await answer.recorded).not.toBeNull()
    expect(runs).toEqual([SECRET])
    expect(JSON.parse(mesh.readBy(A).slice(mesh.readBy(A).indexOf('{')))).toMatchObject({
      request: { input: { prompt: SECRET } },
      queue: false,
    })
  })

  it('refuses in version 1’s words to a requester of release 0.1.0, read in the run’s own', async () => {
    const mesh = new FakeMesh()
    const deny = async () => ({ ...NO_POLICY_VERDICT, allowed: false, reason: 'no', retryAfterS: 60 })
    await runner(mesh, A, undefined, undefined, { decide: deny, speaks: [DIRECT_PROTOCOL_V1] })
    const { frames } = await openTo(mesh, A, DIRECT_PROTOCOL_V1)
    await frames.write({ request: offerOf('old').request, queue: false })
    expect(await frames.read()).toEqual({ type: 'refused', why: 'policy', message: 'denied by policy: no' })
    // This requester reads it as a limit, which lifts when the requester's default says (0.1.0 names no time).
    const err = await ask(requester(mesh, [peer(A, 2)]).inference, 'hi').catch((e: unknown) => e)
    expect(err).toMatchObject({
      failureKind: 'busy/limited',
      retryAfterS: 10,
      reasons: [{ agent: A, why: 'busy/limited' }],
    })
  })

  it('serves a requester of release 0.1.0: the request in the first frame, on version 1', async () => {
    const mesh = new FakeMesh()
    const runs = await runner(mesh, A)
    const { frames, next } = await openTo(mesh, A, DIRECT_PROTOCOL_V1)
    await frames.write({ request: offerOf('old').request, queue: false })
    expect(await next()).toEqual({ type: 'accepted' })
    expect(await next()).toEqual({ type: 'token', text: 'echo' })
    expect(await next()).toMatchObject({ type: 'done', output: { text: 'echo: old' } })
    expect(await next()).toMatchObject({ type: 'proof', root: expect.any(String) })
    expect(runs).toEqual(['old'])
  })
})
