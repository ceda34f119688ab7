/**
 * The requester's side of an interactive inference request: route, then run. The runner is picked
 * from what this peer already knows (planRoute), the request goes to it over the mesh's direct
 * protocol (or runs here, when this peer is the best runner), and tokens flow back as they come. A
 * runner that refuses, fails, or drops before its first token passes the request to the next
 * candidate; after the first token a failure is the answer's end (never a second answer). The record
 * follows the answer, in batches: the runner signs its window's answers under one Merkle root and sends
 * this peer the answer's leaf and proof (and, in version 2, its public batch, which this peer stores at
 * once); this peer signs its own window of what it served, each request
 * accepted only when the runner's leaf signs the output that was served (served-records.ts). Neither holds
 * a prompt or an answer: other peers see roots and totals.
 */

import type { Stream } from '@libp2p/interface'
import { hasImages } from '../../inference/vision.ts'
import type { AgentPort } from '../../interface/agent-port.ts'
import type { ConductorPort } from '../../interface/conductor-port.ts'
import type { MeshVersions } from '../../interface/release.ts'
import { mistakeAnywhere } from '../run-errors.ts'
import { answerStart } from './answer-start.ts'
import { affinityKeys, ConversationAffinity } from './conversation-affinity.ts'
import type { DirectAnswer, DirectCall, DirectStats } from './direct-call.ts'
import { NoDirectRouteError, NoRunnerError, RunnerLostError, type Turndown } from './direct-errors.ts'
import { type DirectRequest, digestRequest, newDirectRequest, type RequestDigest } from './direct-request.ts'
import { type DirectRunner, QUEUE_WAIT_MS, RunRefusedError } from './direct-runner.ts'
import {
  directProtocolFor,
  jsonFrames,
  LATER_EVENTS,
  nextPhase,
  type RequesterPhase,
  runnerFrame,
  wireVersion,
} from './direct-wire.ts'
import {
  heardAt,
  planRoute,
  type RouteCandidate,
  type RoutePlanInput,
  type SentRequest,
} from './route-plan.ts'
import { discoverRunners, type RunnerDiscoveryInit } from './runner-discovery.ts'
import { RunnerHealth } from './runner-health.ts'
import { type CarriedLeaf, ServedRecords, type ServedRecordsInit } from './served-records.ts'

export type { DirectAnswer, DirectCall, DirectStats } from './direct-call.ts'

export interface DirectInferenceInit extends ServedRecordsInit {
  conductor: Pick<ConductorPort, 'agentPubKey' | 'callZome'>
  /** This peer's own runner (a request it is best placed to run runs in process). */
  runner: DirectRunner
  /** Null on a backend that cannot reach other peers' services (Holochain): only this peer runs requests then. */
  agents: AgentPort<Stream> | null
  /**
   * What each peer's hello stated (its release): a runner is asked for the protocol version its
   * release speaks, and none other (direct-wire.ts, directProtocolFor). Without it, every runner is
   * taken to speak this release's.
   */
  versions?: Pick<MeshVersions, 'of'> | null
  peers: () => Promise<RoutePlanInput['peers']>
  /** Each answer served (its output), for the metrics. */
  onServed?: (output: unknown) => void
  /** How long a runner may take to accept a request (dial included); default 30 s. */
  acceptTimeoutMs?: number
  /** How long the runner's proof may take after its answer; default PROOF_WAIT_MS. */
  proofWaitMs?: number
  /**
   * Conversations go back to the runner holding their prompt cache (default); off, they are routed
   * by slots and load alone. RIPPLE_CONVERSATION_AFFINITY=off turns it off, for measuring what it gains.
   */
  conversationAffinity?: boolean
  /** The model directory and load asks, where the backend has them: a big mesh's runners beyond those heard. */
  discovery?: RunnerDiscoveryInit | null
}

const DEFAULT_ACCEPT_MS = 30_000
/**
 * How long the runner's proof may take after its answer: its window (a second) and the zome call that
 * signs it, which a conductor gives up at a minute. Past it the record goes on without the proof.
 */
const PROOF_WAIT_MS = 90_000

type Attempt =
  | { done: true; output: unknown; signed: Promise<CarriedLeaf | null> }
  | { done: false; refusal: Omit<Turndown, 'agent'> }

export class DirectInference {
  readonly #init: DirectInferenceInit
  /** This peer's requests per runner that its last heartbeat may not account for (route-plan.ts). */
  readonly #sent = new Map<string, SentRequest[]>()
  readonly #records: ServedRecords
  readonly #stats: Omit<DirectStats, 'recorded' | 'unrecorded'> = {
    requests: 0,
    failovers: 0,
    stayed: 0,
    moved: 0,
  }
  readonly #affinity: ConversationAffinity | null
  /** How fast each runner answered this peer, and which failed lately (runner-health.ts). */
  readonly #health = new RunnerHealth()

  constructor(init: DirectInferenceInit) {
    this.#init = init
    const affinity = init.conversationAffinity ?? process.env.RIPPLE_CONVERSATION_AFFINITY !== 'off'
    this.#affinity = affinity ? new ConversationAffinity() : null
    this.#records = new ServedRecords(init)
  }

  /** Counters since start, for metrics and the bench. */
  stats(): DirectStats {
    return { ...this.#stats, ...this.#records.counts() }
  }

  /**
   * Routes and runs one request. Throws NoDirectRouteError, before anything is sent, when no runner
   * can be reached this way (a backend without mesh streams, and no model here): the round serves it.
   */
  async run(call: DirectCall): Promise<DirectAnswer> {
    const me = this.#init.conductor.agentPubKey
    const peers = call.peers ?? (await this.#init.peers())
    const need = peers.flatMap(
      (p) => p.capability?.inference.models.find((m) => m.name === call.model) ?? [],
    )[0]
    // A conversation (its model and messages) goes back to the runner holding its prompt cache.
    const messages = Array.isArray(call.input.messages) ? (call.input.messages as unknown[]) : null
    const keys = this.#affinity && affinityKeys(call.model, messages, call.session ?? null)
    const home = keys && this.#affinity?.home(keys)
    const now = Date.now()
    this.#forgetCounted(peers, now)
    const planOver = (over: RoutePlanInput['peers']) =>
      planRoute({
        peers: this.#init.agents ? over : over.filter((p) => p.self),
        model: call.model,
        outstanding: this.#sent,
        now,
        needBytes: need?.size_bytes ?? null,
        home,
        vision: hasImages(call.input),
      })
    const { discovery } = this.#init
    const passable = (agent: string) => this.#health.breakers.passable(agent)
    // A big mesh's runners beyond those heard (the directory), when no known one may take it: before
    // the first try, or once its known runners failed (gone since heard of), within the request.
    let looked = false
    const look = async (known: RouteCandidate[]) => {
      if (looked || !discovery) return known
      const wider = await discoverRunners(discovery, { self: me, ...call, peers, plan: known, passable })
      looked = wider !== null
      return wider ? planOver(wider) : known
    }
    const candidates = this.#health.rank(await look(planOver(peers)), call.model, home, () => null)
    if (candidates.length === 0 && !this.#init.agents) throw new NoDirectRouteError(call.model)
    const request = newDirectRequest(call.kind, call.model, call.input)
    const digest = digestRequest(request, me)
    const hash = digest.request
    call.onEvent?.({ type: 'submitted', task: hash })
    this.#stats.requests += 1
    const reasons: NoRunnerError['reasons'] = []
    // Every candidate in turn; when none could run it and some were busy, the best of those again,
    // waiting for a slot there.
    for (let i = 0; i <= candidates.length; i++) {
      const queue = i === candidates.length
      const busy = reasons.findIndex((r) => r.why === 'busy')
      if (queue && busy < 0) break
      const candidate = queue ? candidates.find((c) => c.agent === reasons[busy]!.agent)! : candidates[i]!
      call.signal.throwIfAborted()
      const sent: SentRequest = { at: Date.now(), ended: null }
      this.#sent.set(candidate.agent, [...(this.#sent.get(candidate.agent) ?? []), sent])
      const watch = this.#health.watch({
        agent: candidate.agent,
        model: call.model,
        request: hash,
        requester: me,
        queued: queue,
        onEvent: call.onEvent,
      })
      const watched = { ...call, onEvent: watch.relay }
      let attempt: Attempt
      try {
        attempt = candidate.self
          ? await this.#runHere(request, watched, queue)
          : await this.#runThere(candidate.agent, request, digest, watched, queue)
      } catch (err) {
        if (err instanceof RunnerLostError) watch.lost()
        throw err
      } finally {
        sent.ended = Date.now()
      }
      if (!attempt.done) {
        watch.refused(attempt.refusal)
        const reason: Turndown = { agent: candidate.agent, ...attempt.refusal }
        // The queued try's reason replaces its busy one: it is why the request ends.
        if (queue) {
          reasons[busy] = reason
          break
        }
        reasons.push(reason)
        if (reason.code !== undefined && mistakeAnywhere(reason.code)) break
        this.#stats.failovers += 1
        const more = await look(candidates.slice(i + 1))
        for (const c of this.#health.rank(more, call.model, home, () => null))
          if (!candidates.some((t) => t.agent === c.agent)) candidates.push(c)
        continue
      }
      watch.answered(attempt.signed)
      this.#init.onServed?.(attempt.output)
      if (keys) {
        this.#affinity?.answered(keys, candidate.agent)
        if (home) this.#stats[home === candidate.agent ? 'stayed' : 'moved'] += 1
      }
      const recorded = this.#records.record(request, hash, candidate.agent, attempt.output, attempt.signed)
      return { request: hash, peer: candidate.agent, output: attempt.output, recorded }
    }
    throw new NoRunnerError(call.model, reasons)
  }

  /** Drops the requests that ended before their runner's last heartbeat: it counts their slots free. */
  #forgetCounted(peers: RoutePlanInput['peers'], now: number): void {
    for (const [agent, sent] of this.#sent) {
      const peer = peers.find((p) => p.agent === agent)
      const since = peer ? heardAt(peer, now) : Number.POSITIVE_INFINITY
      const left = sent.filter((r) => r.ended === null || r.ended > since)
      if (left.length > 0) this.#sent.set(agent, left)
      else this.#sent.delete(agent)
    }
  }

  /** Starts signing this peer's record on its schedule (cover: every slot, served-records.ts). */
  start(): void {
    this.#records.start()
  }

  /** Waits for the records still being written (at stop). */
  async settle(): Promise<void> {
    await this.#records.settle()
  }

  /** The Served record of a request this peer is still writing (resolves once written); else undefined. */
  recording(request: string): Promise<string | null> | undefined {
    return this.#records.recording(request)
  }

  async #runHere(request: DirectRequest, call: DirectCall, queue: boolean): Promise<Attempt> {
    const me = this.#init.conductor.agentPubKey
    const answering = answerStart(call, me)
    try {
      const outcome = await this.#init.runner.run(
        request,
        me,
        { accepted: () => {}, onEvent: answering.relay, ...(call.whole && { whole: true }) },
        call.signal,
        queue,
        call.priority,
      )
      answering.begin()
      return { done: true, ...outcome }
    } catch (err) {
      const message = (err as Error).message || String(err)
      if (err instanceof RunRefusedError) return { done: false, refusal: err.refusal }
      if (answering.began || call.signal.aborted)
        throw answering.began ? new RunnerLostError(me, message) : err
      return { done: false, refusal: { why: 'failed', message } }
    }
  }

  /**
   * Asks `agent` to run the request over the direct protocol: in version 2 its offer first, the request
   * itself only once the runner said `ready` (a runner that refuses never reads it); in version 1 (a
   * runner whose hello states release 0.1.0, and only such a runner) the request at once.
   */
  async #runThere(
    agent: string,
    request: DirectRequest,
    digest: RequestDigest,
    call: DirectCall,
    queue: boolean,
  ): Promise<Attempt> {
    const agents = this.#init.agents!
    // A queued request may wait for a slot there before it is accepted.
    const acceptMs = (this.#init.acceptTimeoutMs ?? DEFAULT_ACCEPT_MS) + (queue ? QUEUE_WAIT_MS : 0)
    const accept = AbortSignal.timeout(acceptMs)
    const answering = answerStart(call, agent)
    const lost = (why: string): Attempt => {
      if (answering.began) throw new RunnerLostError(agent, why)
      return { done: false, refusal: { why: 'unavailable/unreachable', message: why } }
    }
    const protocolOf = () => directProtocolFor(this.#init.versions?.of(agent) ?? undefined)
    const asked = protocolOf()
    let stream: Stream
    try {
      const opening = AbortSignal.any([call.signal, accept])
      stream = await agents.open(agent, asked, opening).catch(async (err: unknown) => {
        // A peer met only now: its hello, said as the connection opened, states its release. Asked
        // again only when that release speaks another version, never because this one failed.
        const stated = protocolOf()
        if (stated === asked || opening.aborted) throw err
        return agents.open(agent, stated, opening)
      })
    } catch (err) {
      call.signal.throwIfAborted()
      return lost(`unreachable: ${(err as Error).message}`)
    }
    const onAbort = () => stream.abort(new Error('the client went away'))
    call.signal.addEventListener('abort', onAbort)
    const frames = jsonFrames(stream)
    // Closed here unless the answer's last frame (its leaf's proof) is still to be read.
    let closeHere = true
    try {
      const version = wireVersion(stream.protocol)
      let phase: RequesterPhase
      if (version === 2) {
        const { kind, model } = request
        const offer = { kind, model, ...digest }
        const extra = { ...(call.whole && { whole: true }), priority: call.priority }
        await frames.write({ offer, queue, reads: LATER_EVENTS, ...extra })
        phase = 'offered'
      } else {
        await frames.write({ request, queue })
        phase = 'sent'
      }
      for (;;) {
        // Until the runner accepts, its silence is bounded; after, tokens take what they take.
        const frame = runnerFrame(
          version,
          await frames.read(phase === 'accepted' ? call.signal : AbortSignal.any([call.signal, accept])),
        )
        const next = nextPhase(phase, frame.type)
        phase = next.phase
        if (next.send) await frames.write({ request })
        else if (frame.type === 'refused') {
          const { type: _, ...refusal } = frame
          return { done: false, refusal }
        } else if (frame.type === 'failed') return lost(frame.message)
        else if (
          frame.type === 'token' ||
          frame.type === 'reasoning' ||
          frame.type === 'tool-call' ||
          frame.type === 'load'
        )
          answering.relay(frame)
        else if (frame.type === 'done') {
          answering.begin()
          const signed = frames
            .read(AbortSignal.timeout(this.#init.proofWaitMs ?? PROOF_WAIT_MS))
            .then((f): CarriedLeaf | null => {
              const last = runnerFrame(version, f)
              return last.type === 'proof' && last.proof !== null && last.root !== null
                ? { proof: last.proof, root: last.root, batch: last.batch }
                : null
            })
            .catch(() => null)
            .finally(() => stream.close().catch(() => {}))
          closeHere = false
          return { done: true, output: frame.output, signed }
        }
      }
    } catch (err) {
      if (err instanceof RunnerLostError) throw err
      closeHere = false
      stream.abort(err as Error)
      call.signal.throwIfAborted()
      const why =
        accept.aborted && !answering.began
          ? 'it did not accept in time'
          : `its stream broke: ${(err as Error).message}`
      return lost(why)
    } finally {
      call.signal.removeEventListener('abort', onAbort)
      // A refusal or a failure leaves no stream open on either side (a busy burst would pile them up).
      if (closeHere) stream.close().catch((err: Error) => stream.abort(err))
    }
  }
}
