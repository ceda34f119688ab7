/**
 * The direct route in process, for its tests: a requester (DirectInference) and runners (DirectRunner)
 * joined by fake agent ports whose streams are in-memory pairs speaking the real direct-wire frames,
 * over a fake conductor that signs every batch.
 */
import type { Stream } from '@libp2p/interface'
import { streamPair } from '@libp2p/utils'
import { z } from 'zod'
import { encodeHashB64, type HoloHashKind, holoHashFrom32 } from '../../../../host/identity/hash.ts'
import type { AgentPort } from '../../../../host/interface/agent-port.ts'
import type { ConductorPort } from '../../../../host/interface/conductor-port.ts'
import { OWN_STATEMENT, type ReleaseStatement, UNSTATED } from '../../../../host/interface/release.ts'
import { silentLogger } from '../../../../host/log/logger.ts'
import { NO_POLICY_VERDICT } from '../../../../host/policy/cedar-engine.ts'
import {
  DirectInference,
  type DirectInferenceInit,
} from '../../../../host/requests/direct/direct-inference.ts'
import { DirectRunner, type DirectRunnerInit } from '../../../../host/requests/direct/direct-runner.ts'
import {
  DIRECT_PROTOCOL_V1,
  DIRECT_PROTOCOL_V2,
  DIRECT_PROTOCOLS,
} from '../../../../host/requests/direct/direct-wire.ts'
import type { RoutePlanInput } from '../../../../host/requests/direct/route-plan.ts'
import { serveDirect } from '../../../../host/requests/direct/runner-streams.ts'
import type { Worker } from '../../../../host/workers/worker.ts'
import type { ServedLeaves } from '../../../../zomes-bindings/index.ts'

/** A well-formed hash of `kind` (the wire's schemas check them), told apart by `n`. */
export const hashOf = (kind: HoloHashKind, n: number) =>
  encodeHashB64(holoHashFrom32(new Uint8Array(32).fill(n), kind))

export const MODEL = 'tiny'
export const ME = hashOf('agent', 1)
export const A = hashOf('agent', 2)
export const B = hashOf('agent', 3)
/** The batch each runner signs (one per runner: every test asks one question). */
export const batchOf = (agent: string) => hashOf('action', agent === A ? 2 : 3)
export const servedBatch = (n: number) => hashOf('action', 100 + n)

export type Handler = (stream: Stream, agent: string) => void | Promise<void>

/**
 * The mesh as agent ports: each agent's handlers, by protocol, reached over a stream pair on the first
 * protocol of the opener's list the agent serves (as multistream-select picks). What each agent's side
 * of its streams read is kept, as text, to show what a runner was sent.
 */
export class FakeMesh {
  readonly handlers = new Map<string, Map<string, Handler>>()
  readonly opened: string[] = []
  readonly received = new Map<string, string[]>()
  /** What an agent's hello states, where a test says (else statementOf's guess from what it serves). */
  readonly stated = new Map<string, ReleaseStatement>()

  /** Serves `protocol` as `agent` with `handler` (a hand-written runner). */
  serve(agent: string, protocol: string, handler: Handler): void {
    this.handlers.set(agent, new Map([...(this.handlers.get(agent) ?? []), [protocol, handler]]))
  }

  /**
   * What `agent`'s hello states, as a requester heard it: release 0.1.0 (UNSTATED) for a peer serving
   * version 1 of the direct protocol alone, this release for any other it serves; undefined for one
   * that serves nothing (never met).
   */
  statementOf(agent: string): ReleaseStatement | undefined {
    const stated = this.stated.get(agent)
    if (stated !== undefined) return stated
    const served = this.handlers.get(agent)
    if (served === undefined) return undefined
    return served.has(DIRECT_PROTOCOL_V1) && !served.has(DIRECT_PROTOCOL_V2) ? UNSTATED : OWN_STATEMENT
  }

  /** What `agent`'s side of its streams read, all frames together, as text. */
  readBy(agent: string): string {
    return (this.received.get(agent) ?? []).join('')
  }

  /** `me`'s port; it serves the protocols of `speaks` only (a runner of release 0.1.0: version 1). */
  port(me: string, speaks: readonly string[] = DIRECT_PROTOCOLS): AgentPort<Stream> {
    const unused = () => Promise.reject(new Error('not used by the direct route'))
    return {
      open: async (agent, protocols) => {
        this.opened.push(agent)
        const served = this.handlers.get(agent)
        const protocol = [protocols].flat().find((p) => served?.has(p))
        if (protocol === undefined) throw new Error(`no route to ${agent}`)
        const [local, remote] = await streamPair()
        local.protocol = protocol
        remote.protocol = protocol
        void served!.get(protocol)!(remote, me)
        // After the handler's own reader (it attaches at once), so this one takes nothing from it.
        remote.addEventListener('message', (evt) => {
          const text = new TextDecoder().decode(evt.data.subarray())
          this.received.set(agent, [...(this.received.get(agent) ?? []), text])
        })
        return local
      },
      handle: async (protocol, handler) => {
        if (speaks.includes(protocol)) this.serve(me, protocol, handler)
      },
      request: unused,
      answer: unused,
      unhandle: async () => {},
      rtt: unused,
    }
  }
}

/** Whether the rules refuse the `call`th write of a requester's window (null: they take it). */
export type Refuse = (call: number, leaves: ServedLeaves) => Error | null

/** A conductor that signs every batch, and a requester's windows unless `refuse` says otherwise. */
export function fakeConductor(agent: string, refuse: Refuse = () => null) {
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
export const echo: Worker = {
  kind: 'infer.generate',
  input: z.object({ model: z.string(), prompt: z.string() }),
  // A thinking model's answer carries its reasoning beside the text.
  output: z.object({ text: z.string(), reasoning: z.string().optional() }),
  run: async (input: { prompt: string }, ctx) => {
    ctx.onEvent({ type: 'token', text: 'echo' })
    return { output: { text: `echo: ${input.prompt}` }, metrics: { tokens_in: 3, tokens_out: 2 } }
  },
}

/**
 * A runner on the fake mesh, its slots as `slots` says at each request; its worker answers as `answer`
 * does (the echo by default); its policies allow all unless `decide` says otherwise; it speaks both
 * versions of the protocol unless `speaks` names fewer.
 */
export async function runner(
  mesh: FakeMesh,
  agent: string,
  slots = () => ({ slots: 4, busy: 0 }),
  answer: Worker['run'] = echo.run,
  options: {
    decide?: DirectRunnerInit['policies']['decide']
    speaks?: readonly string[]
    conductor?: DirectRunnerInit['conductor']
  } = {},
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
    conductor: options.conductor ?? fakeConductor(agent).conductor,
    workers: { get: (kind) => (kind === worker.kind ? worker : undefined) },
    policies: { decide: options.decide ?? (async () => NO_POLICY_VERDICT) },
    slotsOf: slots,
    batchWindowMs: 5,
    logger: silentLogger(),
  })
  await serveDirect(direct, mesh.port(agent, options.speaks), silentLogger())
  return runs
}

/** What the requester knows of a runner: the model loaded, `free` slots (the more, the sooner tried). */
export const peer = (agent: string, free: number) =>
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

export function requester(
  mesh: FakeMesh,
  peers: RoutePlanInput['peers'],
  refuse?: Refuse,
  discovery?: DirectInferenceInit['discovery'],
  proofWaitMs?: number,
) {
  const { conductor, served } = fakeConductor(ME, refuse)
  const inference = new DirectInference({
    conductor,
    // Never chosen: no peer entry is this peer's own.
    runner: {} as DirectRunner,
    agents: mesh.port(ME),
    // Each runner's hello, as the real node records it.
    versions: { of: (agent) => mesh.statementOf(agent) },
    peers: async () => peers,
    batchWindowMs: 5,
    conversationAffinity: false,
    discovery,
    proofWaitMs,
    logger: silentLogger(),
  })
  return { inference, served }
}

export function ask(inference: DirectInference, prompt: string, tokens: string[] = []) {
  return inference.run({
    kind: 'infer.generate',
    model: MODEL,
    input: { prompt },
    signal: AbortSignal.timeout(10_000),
    onEvent: (event) => {
      if (event.type === 'token') tokens.push(event.text)
    },
  })
}
