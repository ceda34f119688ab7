/**
 * The direct route in process: a requester (DirectInference) and runners (DirectRunner) joined by fake
 * agent ports whose streams are in-memory pairs speaking the real direct-wire frames, over a fake
 * conductor that signs every batch. What is tested is failover, queueing and the record; the real
 * mesh's path is tests/scenarios/direct-records.test.ts and tests/e2e/direct-route.test.ts.
 */
import type { Stream } from '@libp2p/interface'
import { streamPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { encodeHashB64, type HoloHashKind, holoHashFrom32 } from '../../../../host/identity/hash.ts'
import { ModelTooLargeError } from '../../../../host/inference/model-errors.ts'
import type { AgentPort } from '../../../../host/interface/agent-port.ts'
import type { ConductorPort } from '../../../../host/interface/conductor-port.ts'
import { InvalidEntryError, UnresolvedDependenciesError } from '../../../../host/interface/zome-refusal.ts'
import { silentLogger } from '../../../../host/log/logger.ts'
import { NO_POLICY_VERDICT } from '../../../../host/policy/cedar-engine.ts'
import { NoRunnerError, RunnerLostError } from '../../../../host/requests/direct/direct-errors.ts'
import { DirectInference } from '../../../../host/requests/direct/direct-inference.ts'
import { requestHash } from '../../../../host/requests/direct/direct-request.ts'
import { DirectRunner } from '../../../../host/requests/direct/direct-runner.ts'
import {
  DIRECT_PROTOCOL,
  jsonFrames,
  RequestFrameSchema,
} from '../../../../host/requests/direct/direct-wire.ts'
import type { RoutePlanInput } from '../../../../host/requests/direct/route-plan.ts'
import { payloadHash } from '../../../../host/scheduler/payload-hash.ts'
import type { Worker } from '../../../../host/workers/worker.ts'
import { type AnswerLeaf, answerLeavesOf, type ServedLeaves } from '../../../../zomes-bindings/index.ts'

/** A well-formed hash of `kind` (the wire's schemas check them), told apart by `n`. */
const hashOf = (kind: HoloHashKind, n: number) =>
  encodeHashB64(holoHashFrom32(new Uint8Array(32).fill(n), kind))

const MODEL = 'tiny'
const ME = hashOf('agent', 1)
const A = hashOf('agent', 2)
const B = hashOf('agent', 3)
/** The batch each runner signs (one per runner: every test asks one question). */
const batchOf = (agent: string) => hashOf('action', agent === A ? 2 : 3)
const servedBatch = (n: number) => hashOf('action', 100 + n)

type Handler = (stream: Stream, agent: string) => void | Promise<void>

/** The mesh as agent ports: each agent's handler of the direct protocol, reached over a stream pair. */
class FakeMesh {
  readonly handlers = new Map<string, Handler>()
  readonly opened: string[] = []

  port(me: string): AgentPort<Stream> {
    const unused = () => Promise.reject(new Error('not used by the direct route'))
    return {
      open: async (agent, protocol) => {
        this.opened.push(agent)
        const handler = this.handlers.get(agent)
        if (handler === undefined || protocol !== DIRECT_PROTOCOL) throw new Error(`no route to ${agent}`)
        const [local, remote] = await streamPair()
        void handler(remote, me)
        return local
      },
      handle: async (protocol, handler) => {
        if (protocol === DIRECT_PROTOCOL) this.handlers.set(me, handler)
      },
      request: unused,
      answer: unused,
      unhandle: async () => {},
      rtt: unused,
    }
  }
}

/** Whether the rules refuse the `call`th write of a requester's window (null: they take it). */
type Refuse = (call: number, leaves: ServedLeaves) => Error | null

/** A conductor that signs every batch, and a requester's windows unless `refuse` says otherwise. */
function fakeConductor(agent: string, refuse: Refuse = () => null) {
  const served: ServedLeaves[] = []
  let calls = 0
  const callZome = async (_dna: string, fn: string, payload: unknown) => {
    if (fn === 'post_answer_batch') return { batch: batchOf(agent) }
    if (fn !== 'record_served_batch') throw new Error(`unexpected ${fn}`)
    const { leaves } = payload as { leaves: ServedLeaves }
    const refusal = refuse(calls++, leaves)
    if (refusal) throw refusal
    served.push(leaves)
    return { batch: servedBatch(served.length) }
  }
  const conductor = { agentPubKey: agent, callZome } as unknown as Pick<
    ConductorPort,
    'agentPubKey' | 'callZome'
  >
  return { conductor, served }
}

/** A stand-in for the engine: streams one token, then answers its prompt echoed. */
const echo: Worker = {
  kind: 'infer.generate',
  input: z.object({ model: z.string(), prompt: z.string() }),
  // A thinking model's answer carries its reasoning beside the text.
  output: z.object({ text: z.string(), reasoning: z.string().optional() }),
  run: async (input: { prompt: string }, ctx) => {
    ctx.onProgress({ type: 'token', data: 'echo' })
    return { output: { text: `echo: ${input.prompt}` }, metrics: { tokens_in: 3, tokens_out: 2 } }
  },
}

/**
 * A runner on the fake mesh, its slots as `slots` says at each request; its worker answers as `answer`
 * does (the echo by default).
 */
async function runner(
  mesh: FakeMesh,
  agent: string,
  slots = () => ({ slots: 4, busy: 0 }),
  answer: Worker['run'] = echo.run,
) {
  const runs: string[] = []
  const worker: Worker = {
    ...echo,
    run: (input, ctx) => {
      runs.push((input as { prompt: string }).prompt)
      return answer(input, ctx)
    },
  }
  const direct = new DirectRunner({
    conductor: fakeConductor(agent).conductor,
    workers: { get: (kind) => (kind === worker.kind ? worker : undefined) },
    policies: { decide: async () => NO_POLICY_VERDICT },
    slotsOf: slots,
    batchWindowMs: 5,
    logger: silentLogger(),
  })
  await direct.serve(mesh.port(agent))
  return runs
}

/** What the requester knows of a runner: the model loaded, `free` slots (the more, the sooner tried). */
const peer = (agent: string, free: number) =>
  ({
    agent,
    self: false,
    status: 'online',
    capability: {
      inference: { models: [{ name: MODEL, loaded: true, file_hash: 'f', size_bytes: 1 }] },
      tags: [],
    },
    load: { slots_free: free },
  }) as unknown as RoutePlanInput['peers'][number]

function requester(mesh: FakeMesh, peers: RoutePlanInput['peers'], refuse?: Refuse) {
  const { conductor, served } = fakeConductor(ME, refuse)
  const inference = new DirectInference({
    conductor,
    // Never chosen: no peer entry is this peer's own.
    runner: {} as DirectRunner,
    agents: mesh.port(ME),
    peers: async () => peers,
    batchWindowMs: 5,
    conversationAffinity: false,
    logger: silentLogger(),
  })
  return { inference, served }
}

function ask(inference: DirectInference, prompt: string, tokens: string[] = []) {
  return inference.run({
    kind: 'infer.generate',
    model: MODEL,
    input: { prompt },
    signal: AbortSignal.timeout(10_000),
    onToken: (text) => tokens.push(text),
  })
}

/** A runner that answers `served` but signs `signed`, with a proof true of what it signed. */
function lyingRunner(mesh: FakeMesh, agent: string, served: unknown, signed: unknown) {
  mesh.handlers.set(agent, async (stream, asker) => {
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

  it('ends the answer with an error when its runner dies after the first token, and asks no other', async () => {
    const mesh = new FakeMesh()
    const runs = await runner(mesh, B)
    mesh.handlers.set(A, async (stream) => {
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
    expect((err as NoRunnerError).noRoom).toBe(true)
    expect((err as NoRunnerError).reasons).toMatchObject([{ agent: A, why: 'no_room' }])
    expect((err as Error).message).toMatch(/held by coder \(512 MiB, busy\)/)
    // A run that failed for another reason is no refusal for room.
    const broken = new FakeMesh()
    await runner(broken, A, undefined, () => Promise.reject(new Error('engine crashed')))
    const failed = await ask(requester(broken, [peer(A, 8)]).inference, 'hi').catch((e: unknown) => e)
    expect((failed as NoRunnerError).noRoom).toBe(false)
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
      ctx.onProgress({ type: 'reasoning', data: thought.reasoning })
      ctx.onProgress({ type: 'token', data: thought.text })
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

  it('waits for the runner’s batch, and drops a proof the rules refuse, by the refusal’s rule', async () => {
    const mesh = new FakeMesh()
    await runner(mesh, A)
    const calls: ServedLeaves[] = []
    const refuse: Refuse = (call, leaves) => {
      calls.push(leaves)
      if (call === 0) return new UnresolvedDependenciesError([batchOf(A)])
      if (call === 1)
        return new InvalidEntryError(
          'served_leaves.proof_invalid',
          `the path of request ${leaves.leaves[0]?.request} does not prove its leaf against the root of batch x`,
        )
      return null
    }
    const { inference, served } = requester(mesh, [peer(A, 2)], refuse)
    const answer = await ask(inference, 'hi')
    expect(await answer.recorded).toBe(servedBatch(1))
    // Retried as it was (its proof and all) while the batch was not here; refused, without the proof.
    expect(calls.map((c) => c.leaves[0]?.accepted)).toEqual([true, true, false])
    expect(served[0]?.leaves[0]).toMatchObject({ proof: null, accepted: false })
    expect(served[0]?.leaves[0]?.reason).toMatch(
      /^the rules refused the runner's proof: served_leaves\.proof_invalid: the path of request/,
    )
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
