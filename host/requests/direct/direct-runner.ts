/**
 * The runner's side of a request routed straight to it: accepts it (the policies allow it here, the
 * worker knows the kind and the input, a slot is free or the model can load), runs the worker with
 * its tokens going straight back, answers the output, then signs it into its window's batch (off the
 * answer's path: one signature per window, a Merkle root over its answers' leaves) and sends the
 * requester its leaf's proof. Refusals come before anything runs, so the requester can try the next peer.
 * What needs no input (the policies, the model's placement, a slot) is judged on the request's offer
 * (`admit`), so a runner that would refuse never reads the input. Serves the mesh's direct protocol
 * (runner-streams.ts), and this peer's own requests in process.
 */
import {
  type AnswerLeaf,
  answerLeafBytes,
  answerLeavesOf,
  type LeafProof,
  LIMITS,
  merklePaths,
  NO_REQUIREMENTS,
} from '../../../zomes-bindings/index.ts'
import { payloadHash } from '../../identity/payload-hash.ts'
import type { ConductorPort } from '../../interface/conductor-port.ts'
import { failureOf } from '../../interface/failure-kind.ts'
import type { WorkerEvent } from '../../interface/run-event.ts'
import type { SlotYield } from '../../interface/slot-yield.ts'
import type { Logger } from '../../log/logger.ts'
import type { PoliciesPort } from '../../policy/policies-port.ts'
import type { RunQuestion } from '../../policy/run-question.ts'
import { nowMicros } from '../../runtime/clock.ts'
import { runMetrics } from '../../workers/run-metrics.ts'
import type { WorkersPort } from '../../workers/workers-port.ts'
import type { Band } from '../priority.ts'
import { callerMistake } from '../run-errors.ts'
import { BatchWindow } from './batch-window.ts'
import { type DirectRequest, digestRequest } from './direct-request.ts'
import type { Offer, Refusal } from './direct-wire.ts'
import type { Holder } from './preemption.ts'
import { SlotTurns, type SlotTurnsInit } from './slot-turns.ts'

export interface DirectRunnerInit {
  conductor: Pick<ConductorPort, 'agentPubKey' | 'callZome'>
  workers: WorkersPort
  policies: Pick<PoliciesPort, 'decide'>
  /** A loaded model's slots, how many run and how many are held back; null when it is not loaded. */
  slotsOf: SlotTurnsInit['slotsOf']
  /** A member's share of turns at the slots (default 1 each; give-to-get.ts when opted in). */
  weightOf?: (member: string) => number
  /** How long a window of answers stays open before it is signed (default 1 s) ... */
  batchWindowMs?: number
  /** ... or how many answers close it (default 256). */
  batchMaxLeaves?: number
  /** The clock slots held unused are charged by (default Date.now). */
  now?: () => number
  logger: Logger
}

/**
 * A request turned down before it ran (or before its first token, when the engine found it at fault):
 * its refusal, as the requester gets it (direct-wire.ts).
 */
export class RunRefusedError extends Error {
  static override readonly name = 'RunRefusedError'
  readonly refusal: Refusal
  constructor(
    why: Refusal['why'],
    message: string,
    /**
     * With `invalid`, what the caller got wrong as the engine found it; with `busy/limited`, when it
     * lifts.
     */
    more: Omit<Refusal, 'why' | 'message'> = {},
  ) {
    super(message)
    this.name = 'RunRefusedError'
    this.refusal = { why, message, ...more }
  }
}

export interface RunSink {
  /** The request was accepted: its events follow. */
  accepted(): void
  onEvent(event: WorkerEvent): void
  /** The requester takes the output whole: no reasoning or text events (WorkerContext.whole). */
  readonly whole?: boolean
}

/** A leaf's proof and the root it leads to, as the runner's window was signed. */
export interface SignedLeaf {
  proof: LeafProof
  root: string
}

/**
 * An offer taken: what needs no input passed, and a slot is held for it until its run ends or it is
 * released (the request never came: the time it was held is charged to its requester, slot-turns.ts).
 * Release is idempotent.
 */
export interface Admission {
  readonly offer: Offer
  release(): void
}

interface Admitted extends Admission {
  readonly worker: NonNullable<ReturnType<DirectRunnerInit['workers']['get']>>
  readonly run: RunQuestion
  /** Its request came: the slot is used, not held for nothing. */
  used(): void
  /** Below the top band: how its run gives its slot up to a higher band's and gets one back. */
  readonly yielding: SlotYield | null
}

export interface RunOutcome {
  output: unknown
  /** The answer's leaf and proof once its window is signed (null when it could not be). */
  signed: Promise<SignedLeaf | null>
}

interface SealedWindow {
  batch: string
  root: string
  paths: string[][]
  leaves: AnswerLeaf[]
}

/** What a request may take in all (the round's task deadline; its policies read it as its lease). */
export const RUN_LIMIT_MS = 10 * 60_000
/** How long a request every peer was too busy for waits here for a slot (below the requester's patience). */
export const QUEUE_WAIT_MS = 20_000

export class DirectRunner {
  readonly #init: DirectRunnerInit
  /** Direct requests' slots per model and the turns at them (the engine's own count lags). */
  readonly #turns: SlotTurns
  readonly #window: BatchWindow<AnswerLeaf, SealedWindow>

  constructor(init: DirectRunnerInit) {
    this.#init = init
    this.#turns = new SlotTurns({
      self: init.conductor.agentPubKey,
      slotsOf: init.slotsOf,
      weightOf: init.weightOf,
      // off: first come, first served, no share (bench/fair-share.ts's baseline).
      fair: process.env.RIPPLE_FAIR_TURNS !== 'off',
      now: init.now,
    })
    this.#window = new BatchWindow({
      windowMs: init.batchWindowMs,
      maxLeaves: init.batchMaxLeaves,
      seal: (leaves, openedAt, closedAt) => this.#seal(leaves, openedAt, closedAt),
    })
  }

  /** Signs the answers of the open window now (at stop). */
  async settle(): Promise<void> {
    await this.#window.flush()
  }

  /**
   * Runs `request` for `requester`: admits its offer, then runs it. Throws RunRefusedError before
   * `sink.accepted()`; after it, an error means the run failed (its leaf says so).
   */
  async run(
    request: DirectRequest,
    requester: string,
    sink: RunSink,
    signal: AbortSignal,
    queue = false,
    band: Band = 'interactive',
  ): Promise<RunOutcome> {
    const offer = { kind: request.kind, model: request.model, ...digestRequest(request, requester) }
    return this.runAdmitted(await this.admit(offer, requester, signal, queue, band), request, sink, signal)
  }

  /**
   * Judges a request by its offer, before its input: a worker for its kind, the policies, the model's
   * placement, a free slot (held from here). Throws RunRefusedError. With every slot busy it refuses,
   * unless asked to `queue` (every candidate was busy): then it waits for a slot, up to QUEUE_WAIT_MS.
   * A request of a higher `band` than one running waits for that one to be parked instead, or to end
   * where it ends sooner than a park (preemption.ts).
   */
  async admit(
    offer: Offer,
    requester: string,
    signal: AbortSignal,
    queue = false,
    band: Band = 'interactive',
  ): Promise<Admission> {
    const me = this.#init.conductor.agentPubKey
    const worker = this.#init.workers.get(offer.kind)
    if (worker === undefined)
      throw new RunRefusedError('invalid', `this peer has no worker for ${offer.kind}`)
    const run = directQuestion(offer, requester)
    for (const action of ['claim', 'run'] as const) {
      const verdict = await this.#init.policies.decide({
        action,
        subject: me,
        snapshot: null,
        run,
        decidedBy: me,
        // The model's slots, who holds them and who waits: what a share of them is judged on.
        context: () => this.#turns.context(offer.model, requester),
        // Who asked whom stays between them: a denial is not put on the mesh's record.
        trail: 'local',
      })
      if (!verdict.allowed)
        throw new RunRefusedError('busy/limited', `denied by policy: ${verdict.reason}`, {
          ...(verdict.retryAfterS !== undefined && { retry_after_s: verdict.retryAfterS }),
        })
    }
    // A loaded model is placed already; placing reads the models directory, not worth a request's time.
    if (worker.place && this.#init.slotsOf(offer.model) === null) {
      const placement = await worker.place(offer.model)
      if ('cannot' in placement) throw new RunRefusedError('unavailable', placement.cannot)
    }
    // The owner's own requests first, then members by turns (slot-turns.ts), the higher band first.
    const holder: Holder = { band, park: null, parking: false }
    const taking = { queue, signal, waitMs: QUEUE_WAIT_MS, band, holder }
    if (!(await this.#turns.take(offer.model, requester, taking))) {
      const owed = this.#turns.owedMs(requester)
      if (owed > 0)
        throw new RunRefusedError(
          'busy/limited',
          `this peer held slots for your offers whose requests never came: none for ${Math.ceil(owed / 1000)} s`,
          { retry_after_s: Math.ceil(owed / 1000) },
        )
      throw new RunRefusedError('busy', `every slot of model "${offer.model}" here is busy`)
    }
    const now = this.#init.now ?? Date.now
    const takenAt = now()
    let held = true
    let used = false
    let done = false
    const release = () => {
      done = true
      if (!held) return
      held = false
      this.#turns.release(offer.model, requester, used ? 0 : Math.max(1, now() - takenAt), holder)
    }
    // Parked: its slot goes to the higher band's request; it waits in line, ahead of its member's others.
    const resume = async (aborted: AbortSignal) => {
      if (!held || done) return
      held = false
      this.#turns.release(offer.model, requester, 0, holder)
      const back = { queue: true, signal: aborted, waitMs: RUN_LIMIT_MS, band, holder, first: true }
      if (!(await this.#turns.take(offer.model, requester, back)))
        throw new Error(`no slot of model "${offer.model}" came back for the parked request`)
      if (done) this.#turns.release(offer.model, requester, 0, holder)
      else held = true
    }
    const yielding: SlotYield | null =
      band === 'interactive'
        ? null
        : {
            parkable: (park, odds) => {
              holder.park = park
              holder.odds = odds
            },
            resume,
          }
    const admitted: Admitted = { offer, worker, run, release, used: () => (used = true), yielding }
    return admitted
  }

  /**
   * Runs the request of an admitted offer (the caller checked it is that request), releasing its slot
   * when it ends. Throws RunRefusedError before `sink.accepted()` (an input its worker refuses).
   */
  async runAdmitted(
    admission: Admission,
    request: DirectRequest,
    sink: RunSink,
    signal: AbortSignal,
  ): Promise<RunOutcome> {
    // Only this runner's admit makes admissions: the cast recovers what it kept there.
    const { worker, run, release, used, yielding } = admission as Admitted
    used()
    try {
      const parsed = worker.input.safeParse({ ...request.input, model: request.model })
      if (!parsed.success)
        throw new RunRefusedError(
          'invalid',
          `invalid input: ${parsed.error.issues[0]?.message ?? 'unreadable'}`,
        )
      sink.accepted()
      return await this.#runParsed(worker, run, request, parsed.data, sink, signal, yielding)
    } finally {
      release()
    }
  }

  async #runParsed(
    worker: Admitted['worker'],
    run: RunQuestion,
    request: DirectRequest,
    input: unknown,
    sink: RunSink,
    signal: AbortSignal,
    yielding: SlotYield | null,
  ): Promise<RunOutcome> {
    const startedAt = nowMicros()
    let answering = false
    try {
      const outcome = await worker.run(input, {
        signal,
        ...(sink.whole && { whole: true }),
        ...(yielding && { yielding }),
        onEvent: (event) => {
          // Its answer began: a failure from here is not the request's fault.
          if (event.type !== 'load') answering = true
          sink.onEvent(event)
        },
      })
      const output = worker.output.parse(outcome.output)
      const fileHash = outcome.metrics?.model_file_hash
      const signed = this.#sign(run, request, startedAt, { output, metrics: outcome.metrics ?? {} }, fileHash)
      return { output, signed }
    } catch (err) {
      const message = (err as Error).message || String(err)
      // The request's own fault, found before anything was answered: refused as an invalid input is
      // (nothing ran, nothing is signed), so the requester answers the caller 400, not "no capacity".
      const mistake = !answering && !signal.aborted ? callerMistake(err, request.input) : null
      if (mistake) throw new RunRefusedError('invalid', message, mistake)
      // No memory for the model now (what holds it is busy): nothing ran, so another peer may take it.
      if (!answering && !signal.aborted && failureOf(err) === 'unavailable/no_room')
        throw new RunRefusedError('unavailable/no_room', message)
      if (!signal.aborted) void this.#sign(run, request, startedAt, { error: message }, undefined)
      throw err
    }
  }

  /** Adds the answer's leaf to the open window; resolves to its proof once the window is signed. */
  async #sign(
    run: RunQuestion,
    request: DirectRequest,
    startedAt: number,
    outcome: { output: unknown; metrics: Record<string, number | string> } | { error: string },
    fileHash: number | string | undefined,
  ): Promise<SignedLeaf | null> {
    const metrics = runMetrics(startedAt, 'metrics' in outcome ? outcome.metrics : {})
    const leaf: AnswerLeaf = {
      request: run.id,
      requester: run.requester,
      model: request.model,
      model_file_hash: typeof fileHash === 'string' ? fileHash : null,
      status: 'error' in outcome ? 'error' : 'ok',
      output_hash: payloadHash('output' in outcome ? outcome.output : null),
      tokens_in: Math.min(metrics.tokens_in ?? 0, LIMITS.result.tokens.max),
      tokens_out: Math.min(metrics.tokens_out ?? 0, LIMITS.result.tokens.max),
      started_at: metrics.started_at,
      finished_at: metrics.finished_at,
    }
    try {
      const { index, sealed } = await this.#window.add(leaf)
      const proof = {
        batch: sealed.batch,
        leaf,
        index,
        count: sealed.leaves.length,
        path: sealed.paths[index]!,
      }
      return { proof, root: sealed.root }
    } catch (err) {
      this.#init.logger.warn({ err, request: run.id }, 'could not sign the answer')
      return null
    }
  }

  /** One signature for a window's answers: their leaves (private) and root and totals (public). */
  async #seal(leaves: AnswerLeaf[], openedAt: number, closedAt: number): Promise<SealedWindow> {
    const window = answerLeavesOf(leaves)
    const ref = await this.#init.conductor.callZome('resource_mesh', 'post_answer_batch', {
      leaves: window,
      opened_at: openedAt,
      closed_at: closedAt,
    })
    return { batch: ref.batch, root: window.root, paths: merklePaths(leaves.map(answerLeafBytes)), leaves }
  }
}

/**
 * A direct request as the policies see it, from its offer (its input unread): by its request hash, asked
 * by its requester, one run for one answer within RUN_LIMIT_MS.
 */
function directQuestion(offer: Offer, requester: string): RunQuestion {
  return {
    id: offer.request,
    requester,
    kind: offer.kind,
    requirements: { ...NO_REQUIREMENTS, model: offer.model },
    input_bytes: offer.input_bytes,
    lease_ms: RUN_LIMIT_MS,
    max_attempts: 1,
    fan_out: 1,
  }
}
