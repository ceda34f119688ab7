/**
 * The direct route in process (direct-fixtures.ts): failover, queueing and the record; the two-phase
 * exchange is two-phase.test.ts; the real mesh's path is tests/scenarios/direct-records.test.ts and
 * tests/e2e/direct-route.test.ts.
 */
import { describe, expect, it, vi } from 'vitest'
import { payloadHash } from '../../../../host/identity/payload-hash.ts'
import { ModelTooLargeError } from '../../../../host/inference/model-errors.ts'
import { InvalidEntryError, UnresolvedDependenciesError } from '../../../../host/interface/zome-refusal.ts'
import { encodeWire } from '../../../../host/membership/admission-wire.ts'
import { NoRunnerError, RunnerLostError } from '../../../../host/requests/direct/direct-errors.ts'
import { requestHash } from '../../../../host/requests/direct/direct-request.ts'
import {
  DIRECT_PROTOCOL_V1,
  jsonFrames,
  RequestFrameSchema,
} from '../../../../host/requests/direct/direct-wire.ts'
import { type AnswerLeaf, answerLeavesOf, type ServedLeaves } from '../../../../zomes-bindings/index.ts'
import { CAPABILITY } from '../../api/fixtures.ts'
import {
  A,
  ask,
  B,
  batchOf,
  FakeMesh,
  MODEL,
  peer,
  type Refuse,
  requester,
  runner,
  servedBatch,
} from './direct-fixtures.ts'

/** A runner that answers `served` but signs `signed`, with a proof true of what it signed. */
function lyingRunner(mesh: FakeMesh, agent: string, served: unknown, signed: unknown) {
  mesh.serve(agent, DIRECT_PROTOCOL_V1, async (stream, asker) => {
    const frames = jsonFrames(stream)
    const { request } = RequestFrameSchema.parse(await frames.read())
    await frames.write({ type: 'accepted' })
    await frames.write({ type: 'done', output: served })
    const leaf: AnswerLeaf = {
      request: requestHash(request, asker),
      requester: asker,
      model: MODEL,
      model_file_hash: null,
      status: 'ok',
      output_hash: payloadHash(signed),
      tokens_in: 1,
      tokens_out: 1,
      started_at: 1,
      finished_at: 2,
    }
    const proof = { batch: batchOf(agent), leaf, index: 0, count: 1, path: [] }
    await frames.write({ type: 'proof', proof, root: answerLeavesOf([leaf]).root })
    await stream.close()
  })
}

describe('the direct route', () => {
  it('passes a request to the next runner when the first cannot be reached', async () => {
    const mesh = new FakeMesh()
    const runs = await runner(mesh, B)
    // A has the more free slots, so it is tried first; it has no handler on the mesh.
    const { inference } = requester(mesh, [peer(A, 8), peer(B, 2)])
    const answer = await ask(inference, 'hi')
    expect(mesh.opened).toEqual([A, B])
    expect(answer).toMatchObject({ peer: B, output: { text: 'echo: hi' } })
    expect(runs).toEqual(['hi'])
    expect(inference.stats()).toMatchObject({ requests: 1, failovers: 1 })
  })

  it('in a big mesh, a request whose only known runner is gone finds another through the directory within itself', async () => {
    const mesh = new FakeMesh()
    const runs = await runner(mesh, B)
    const capability = {
      ...CAPABILITY,
      inference: {
        tokens_per_second: null,
        models: [
          {
            name: MODEL,
            file_hash: 'a'.repeat(64),
            size_bytes: 1,
            parameters: 1,
            quantisation: null,
            context_length: null,
            architecture: null,
            loaded: true,
          },
        ],
      },
    }
    const heartbeat = { cpu_pct: 1, ram_pct: 1, gpu_pct: null, queue_depth: 0, slots_free: 2, timestamp: 1 }
    const find = vi.fn(async () => [B])
    // B answers its load as load/1.0.0 would (A, heard of before it went, has no handler at all).
    const agents = {
      answer: async () => {},
      unhandle: async () => {},
      request: async (agent: string) => {
        if (agent !== B) throw new Error(`no route to ${agent}`)
        return encodeWire({ capability, heartbeat })
      },
    }
    const { inference } = requester(mesh, [peer(A, 8)], undefined, {
      directory: { find },
      agents,
      hearsAll: () => false,
    })
    const answer = await ask(inference, 'hi')
    expect(mesh.opened).toEqual([A, B])
    expect(find).toHaveBeenCalledOnce()
    expect(answer).toMatchObject({ peer: B, output: { text: 'echo: hi' } })
    expect(runs).toEqual(['hi'])
    // The next request goes to B first: A's failure opened its breaker.
    await ask(inference, 'again')
    expect(mesh.opened).toEqual([A, B, B])
  })

  it('ends the answer with an error when its runner dies after the first token, and asks no other', async () => {
    const mesh = new FakeMesh()
    const runs = await runner(mesh, B)
    mesh.serve(A, DIRECT_PROTOCOL_V1, async (stream) => {
      const frames = jsonFrames(stream)
      await frames.read()
      await frames.write({ type: 'accepted' })
      await frames.write({ type: 'token', text: 'half an ans' })
      stream.abort(new Error('the runner crashed'))
    })
    const { inference } = requester(mesh, [peer(A, 8), peer(B, 2)])
    const tokens: string[] = []
    await expect(ask(inference, 'hi', tokens)).rejects.toBeInstanceOf(RunnerLostError)
    expect(tokens).toEqual(['half an ans'])
    expect(mesh.opened).toEqual([A])
    expect(runs).toEqual([])
  })

  it('queues a request at a busy runner when every runner is busy, and runs it once a slot frees', async () => {
    const mesh = new FakeMesh()
    let busy = 1
    const runs = await runner(mesh, A, () => ({ slots: 1, busy }))
    const { inference } = requester(mesh, [peer(A, 0)])
    let freedAt = Number.POSITIVE_INFINITY
    setTimeout(() => {
      busy = 0
      freedAt = Date.now()
    }, 150)
    const answer = await ask(inference, 'wait for me')
    // Tried once and refused as busy, then again asking to wait: answered after the slot freed.
    expect(mesh.opened).toEqual([A, A])
    expect(Date.now()).toBeGreaterThanOrEqual(freedAt)
    expect(answer).toMatchObject({ peer: A, output: { text: 'echo: wait for me' } })
    expect(runs).toEqual(['wait for me'])
  })

  it('passes a request a busy runner refuses to the next with a free slot, rather than queueing it there', async () => {
    const mesh = new FakeMesh()
    // A's heartbeat still says 4 free: its slot filled since.
    const busyRuns = await runner(mesh, A, () => ({ slots: 1, busy: 1 }))
    const runs = await runner(mesh, B)
    const { inference } = requester(mesh, [peer(A, 4), peer(B, 1)])
    expect(await ask(inference, 'swarm')).toMatchObject({ peer: B, output: { text: 'echo: swarm' } })
    expect(mesh.opened).toEqual([A, B])
    expect(busyRuns).toEqual([])
    expect(runs).toEqual(['swarm'])
  })

  it('passes a request on when a runner has no room for the model, and says what holds it when none has', async () => {
    const mesh = new FakeMesh()
    const full = () =>
      Promise.reject(new ModelTooLargeError(MODEL, 2 ** 30, 2 ** 29, 'coder (512 MiB, busy)'))
    await runner(mesh, A, undefined, full)
    const runs = await runner(mesh, B)
    const { inference } = requester(mesh, [peer(A, 8), peer(B, 2)])
    expect(await ask(inference, 'hi')).toMatchObject({ peer: B, output: { text: 'echo: hi' } })
    expect(runs).toEqual(['hi'])
    // Only the full one: refused for room (a 507 at the edge), naming what holds the memory there.
    const alone = requester(mesh, [peer(A, 8)])
    const err = await ask(alone.inference, 'hi').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NoRunnerError)
    expect((err as NoRunnerError).failureKind).toBe('unavailable/no_room')
    expect((err as NoRunnerError).reasons).toMatchObject([{ agent: A, why: 'unavailable/no_room' }])
    expect((err as Error).message).toMatch(/held by coder \(512 MiB, busy\)/)
    // A run that failed for another reason is no refusal for room.
    const broken = new FakeMesh()
    await runner(broken, A, undefined, () => Promise.reject(new Error('engine crashed')))
    const failed = await ask(requester(broken, [peer(A, 8)]).inference, 'hi').catch((e: unknown) => e)
    expect((failed as NoRunnerError).failureKind).toBe('unavailable')
  })

  it('records an answer as accepted with the runner’s proof of the output served', async () => {
    const mesh = new FakeMesh()
    await runner(mesh, A)
    const { inference, served } = requester(mesh, [peer(A, 2)])
    const answer = await ask(inference, 'hi')
    expect(await answer.recorded).toBe(servedBatch(1))
    expect(served[0]?.leaves).toEqual([
      expect.objectContaining({ request: answer.request, runner: A, accepted: true, reason: '' }),
    ])
    expect(served[0]?.leaves[0]?.proof?.leaf.output_hash).toBe(payloadHash({ text: 'echo: hi' }))
    expect(inference.stats()).toMatchObject({ recorded: 1, unrecorded: 0 })
  })

  it('signs a thinking model’s answer with its reasoning: the proof’s output hash covers both', async () => {
    const mesh = new FakeMesh()
    const thought = { text: 'Oslo', reasoning: 'The user asks about a city.' }
    await runner(mesh, A, undefined, async (_input, ctx) => {
      ctx.onEvent({ type: 'reasoning', text: thought.reasoning })
      ctx.onEvent({ type: 'token', text: thought.text })
      return { output: thought, metrics: { tokens_in: 3, tokens_out: 9 } }
    })
    const { inference, served } = requester(mesh, [peer(A, 2)])
    const answer = await ask(inference, 'hi')
    expect(answer.output).toEqual(thought)
    await answer.recorded
    const leaf = served[0]?.leaves[0]
    expect(leaf).toMatchObject({ accepted: true, reason: '' })
    expect(leaf?.proof?.leaf.output_hash).toBe(payloadHash(thought))
    expect(leaf?.proof?.leaf.output_hash).not.toBe(payloadHash({ text: thought.text }))
  })

  it('records an answer as not accepted when the runner’s proof signs another output', async () => {
    const mesh = new FakeMesh()
    lyingRunner(mesh, A, { text: 'what was served' }, { text: 'what was signed' })
    const { inference, served } = requester(mesh, [peer(A, 2)])
    const answer = await ask(inference, 'hi')
    expect(answer.output).toEqual({ text: 'what was served' })
    expect(await answer.recorded).not.toBeNull()
    expect(served[0]?.leaves[0]).toMatchObject({
      accepted: false,
      reason: 'the runner signed another output than the one it served',
    })
    // The proof stays: it is true of what the runner signed.
    expect(served[0]?.leaves[0]?.proof?.leaf.output_hash).toBe(payloadHash({ text: 'what was signed' }))
  })

  it('records an answer without its proof when the runner’s signing hangs past the wait, not never', async () => {
    const mesh = new FakeMesh()
    // Its conductor never answers the call that signs its window: no proof frame ever comes.
    const hangs = { agentPubKey: A, callZome: () => new Promise<never>(() => {}) }
    await runner(mesh, A, undefined, undefined, { conductor: hangs as never })
    const { inference, served } = requester(mesh, [peer(A, 2)], undefined, undefined, 50)
    const answer = await ask(inference, 'hi')
    expect(await answer.recorded).toBe(servedBatch(1))
    expect(served[0]?.leaves[0]).toMatchObject({ runner: A, accepted: false, proof: null })
    expect(served[0]?.leaves[0]?.reason).toMatch(/^the runner signed no record of it/)
  })

  it('drops the proof of the leaf a refusal names, and the proofs citing a batch the rules miss', async () => {
    const mesh = new FakeMesh()
    await runner(mesh, A)
    const calls: ServedLeaves[] = []
    const refuse: Refuse = (call, leaves) => {
      calls.push(leaves)
      // The leaf is named in the refusal's structure; its text names another request, and is not read.
      if (call === 0)
        return new InvalidEntryError('served_leaves.proof_invalid', `request ${'f'.repeat(64)}`, 0)
      return null
    }
    const { inference, served } = requester(mesh, [peer(A, 2)], refuse)
    const answer = await ask(inference, 'hi')
    expect(await answer.recorded).toBe(servedBatch(1))
    expect(calls.map((c) => c.leaves[0]?.accepted)).toEqual([true, false])
    expect(served[0]?.leaves[0]).toMatchObject({ proof: null, accepted: false })
    expect(served[0]?.leaves[0]?.reason).toMatch(
      /^the rules refused the runner's proof: served_leaves\.proof_invalid: /,
    )

    // Without a way to wait for it, a batch the rules miss costs its leaves their proofs, without retries.
    const unresolved: Refuse = (call) => (call === 0 ? new UnresolvedDependenciesError([batchOf(A)]) : null)
    const missing = requester(mesh, [peer(A, 2)], unresolved)
    expect(await (await ask(missing.inference, 'hi')).recorded).toBe(servedBatch(1))
    expect(missing.served[0]?.leaves[0]).toMatchObject({ proof: null, accepted: false })
    expect(missing.served[0]?.leaves[0]?.reason).toBe(`runner ${A}'s batch ${batchOf(A)} never arrived`)
  })

  it('leaves a request unrecorded when the rules refuse its window for another rule', async () => {
    const mesh = new FakeMesh()
    await runner(mesh, A)
    const refusal = new InvalidEntryError(
      'served_leaves.accepted_mismatch',
      'accepted is 1, 0 of the leaves are',
    )
    const { inference, served } = requester(mesh, [peer(A, 2)], () => refusal)
    const answer = await ask(inference, 'hi')
    expect(await answer.recorded).toBeNull()
    expect(served).toEqual([])
    expect(inference.stats()).toMatchObject({ recorded: 0, unrecorded: 1 })
  })
})
