/**
 * The runner's side of a request routed straight to it: accepts it (the policies allow it here, the
 * worker knows the kind and the input, a slot is free or the model can load), runs the worker with
 * its tokens going straight back, answers the output, then signs it into its window's batch (off the
 * answer's path: one signature per window, a Merkle root over its answers' leaves) and sends the
 * requester its leaf's proof. Refusals come before anything runs, so the requester can try the next peer.
 * Serves the mesh's direct protocol, and this peer's own requests in process.
 */
import type { Stream } from '@libp2p/interface'
import {
  type AnswerLeaf,
  answerLeafBytes,
  answerLeavesOf,
  type EntryRecord,
  type LeafProof,
  LIMITS,
  merklePaths,
  NO_REQUIREMENTS,
  type Task,
} from '../../../zomes-bindings/index.ts'
import type { AgentPort } from '../../interface/agent-port.ts'
import type { ConductorPort } from '../../interface/conductor-port.ts'
import { failureOf } from '../../interface/failure-kind.ts'
import type { Logger } from '../../log/logger.ts'
import type { PolicyService } from '../../policy/policy-service.ts'
import { payloadDigest, payloadHash } from '../../scheduler/payload-hash.ts'
import { runMetrics } from '../../scheduler/run-metrics.ts'
import type { WorkerRegistry } from '../../workers/worker-registry.ts'
import { type CallerMistake, callerMistake } from '../run-errors.ts'
import { BatchWindow } from './batch-window.ts'
import { type DirectRequest, requestHash } from './direct-request.ts'
import { DIRECT_PROTOCOL, jsonFrames, type Refusal, RequestFrameSchema } from './direct-wire.ts'

export interface DirectRunnerInit {
  conductor: Pick<ConductorPort, 'agentPubKey' | 'callZome'>
  workers: Pick<WorkerRegistry, 'get'>
  policies: Pick<PolicyService, 'decide'>
  /** A loaded model's slots and how many run; null when it is not loaded (a request loads it). */
  slotsOf: (model: string) => { slots: number; busy: number } | null
  /** How long a window of answers stays open before it is signed (default 1 s) ... */
  batchWindowMs?: number
  /** ... or how many answers close it (default 256). */
  batchMaxLeaves?: number
  logger: Logger
}

/** A request turned down before it ran (or before its first token, when the engine found it at fault). */
export class RunRefusedError extends Error {
  static override readonly name = 'RunRefusedError'
  constructor(
    readonly why: Refusal,
    message: string,
    /** With `invalid`: what the caller got wrong, as the engine found it. */
    readonly mistake: CallerMistake | null = null,
  ) {
    super(message)
    this.name = 'RunRefusedError'
  }
}

export interface RunSink {
  /** The request was accepted: tokens follow. */
  accepted(): void
  token(text: string): void
  reasoning(text: string): void
}

/** A leaf's proof and the root it leads to, as the runner's window was signed. */
export interface SignedLeaf {
  proof: LeafProof
  root: string
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

const nowMicros = () => Date.now() * 1000
/** What a request may take in all (the scheduled path's task deadline). */
const RUN_LIMIT_MS = 10 * 60_000
/** How long a request every peer was too busy for waits here for a slot (below the requester's patience). */
export const QUEUE_WAIT_MS = 20_000
const QUEUE_POLL_MS = 20

export class DirectRunner {
  readonly #init: DirectRunnerInit
  /** Direct requests running per model (the engine's own count lags until they reach it). */
  readonly #running = new Map<string, number>()
  readonly #window: BatchWindow<AnswerLeaf, SealedWindow>

  constructor(init: DirectRunnerInit) {
    this.#init = init
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

  /** Serves the direct protocol to peers of the mesh (the stream layer admits members only). */
  async serve(agents: AgentPort<Stream>): Promise<void> {
    await agents.handle(DIRECT_PROTOCOL, (stream, requester) => this.#serveStream(stream, requester))
  }

  /**
   * Runs `request` for `requester`. Throws RunRefusedError before `sink.accepted()`; after it, an
   * error means the run failed (its leaf says so). With every slot busy it refuses, unless asked to
   * `queue` (every candidate was busy): then it waits for a slot, up to QUEUE_WAIT_MS.
   */
  async run(
    request: DirectRequest,
    requester: string,
    sink: RunSink,
    signal: AbortSignal,
    queue = false,
  ): Promise<RunOutcome> {
    const me = this.#init.conductor.agentPubKey
    const worker = this.#init.workers.get(request.kind)
    if (worker === undefined)
      throw new RunRefusedError('invalid', `this peer has no worker for ${request.kind}`)
    const parsed = worker.input.safeParse({ ...request.input, model: request.model })
    if (!parsed.success)
      throw new RunRefusedError(
        'invalid',
        `invalid input: ${parsed.error.issues[0]?.message ?? 'unreadable'}`,
      )
    const task = asTask(request, requester, requestHash(request, requester))
    for (const action of ['claim', 'run'] as const) {
      const verdict = await this.#init.policies.decide({
        action,
        subject: me,
        snapshot: null,
        task,
        decidedBy: me,
      })
      if (!verdict.allowed) throw new RunRefusedError('policy', `denied by policy: ${verdict.reason}`)
    }
    // A loaded model is placed already; placing reads the models directory, not worth a request's time.
    if (worker.place && this.#init.slotsOf(request.model) === null) {
      const placement = await worker.place(request.model)
      if ('cannot' in placement) throw new RunRefusedError('no_model', placement.cannot)
    }
    for (const giveUpAt = Date.now() + QUEUE_WAIT_MS; !this.#slotFree(request.model); ) {
      if (!queue || Date.now() > giveUpAt)
        throw new RunRefusedError('busy', `every slot of model "${request.model}" here is busy`)
      await new Promise((resolve) => setTimeout(resolve, QUEUE_POLL_MS))
      signal.throwIfAborted()
    }
    this.#running.set(request.model, (this.#running.get(request.model) ?? 0) + 1)
    sink.accepted()
    const startedAt = nowMicros()
    let answering = false
    try {
      const outcome = await worker.run(parsed.data, {
        signal,
        onProgress: (p) => {
          if ((p.type !== 'token' && p.type !== 'reasoning') || typeof p.data !== 'string') return
          answering = true
          if (p.type === 'token') sink.token(p.data)
          else sink.reasoning(p.data)
        },
      })
      const output = worker.output.parse(outcome.output)
      const fileHash = outcome.metrics?.model_file_hash
      const signed = this.#sign(
        task,
        request,
        startedAt,
        { output, metrics: outcome.metrics ?? {} },
        fileHash,
      )
      return { output, signed }
    } catch (err) {
      const message = (err as Error).message || String(err)
      // The request's own fault, found before anything was answered: refused as an invalid input is
      // (nothing ran, nothing is signed), so the requester answers the caller 400, not "no capacity".
      const mistake = !answering && !signal.aborted ? callerMistake(err, request.input) : null
      if (mistake) throw new RunRefusedError('invalid', message, mistake)
      // No memory for the model now (what holds it is busy): nothing ran, so another peer may take it.
      if (!answering && !signal.aborted && failureOf(err) === 'unavailable/no_room')
        throw new RunRefusedError('no_room', message)
      if (!signal.aborted) void this.#sign(task, request, startedAt, { error: message }, undefined)
      throw err
    } finally {
      this.#running.set(request.model, (this.#running.get(request.model) ?? 1) - 1)
    }
  }

  #slotFree(model: string): boolean {
    const slots = this.#init.slotsOf(model)
    return slots === null || Math.max(slots.busy, this.#running.get(model) ?? 0) < slots.slots
  }

  async #serveStream(stream: Stream, requester: string): Promise<void> {
    const frames = jsonFrames(stream)
    const aborted = new AbortController()
    const timer = setTimeout(() => aborted.abort(new Error('the request ran past its limit')), RUN_LIMIT_MS)
    stream.addEventListener('close', () => aborted.abort(new Error('the requester went away')))
    try {
      const frame = RequestFrameSchema.safeParse(await frames.read(aborted.signal))
      if (!frame.success) {
        await frames.write({ type: 'refused', why: 'invalid', message: 'not a direct request' })
        return
      }
      // Tokens go out in order, each after the one before it is written.
      let sending = Promise.resolve()
      const send = (frame: unknown) => {
        sending = sending.then(() => frames.write(frame, aborted.signal)).catch(() => {})
      }
      const sink: RunSink = {
        accepted: () => send({ type: 'accepted' }),
        token: (text) => send({ type: 'token', text }),
        reasoning: (text) => send({ type: 'reasoning', text }),
      }
      try {
        const { request, queue } = frame.data
        const outcome = await this.run(request, requester, sink, aborted.signal, queue)
        send({ type: 'done', output: outcome.output })
        const signed = await outcome.signed
        send({ type: 'proof', proof: signed?.proof ?? null, root: signed?.root ?? null })
      } catch (err) {
        const message = (err as Error).message || String(err)
        send(
          err instanceof RunRefusedError
            ? { type: 'refused', why: err.why, message, ...err.mistake }
            : { type: 'failed', message },
        )
      }
      await sending
      await stream.close().catch(() => {})
    } catch (err) {
      this.#init.logger.debug({ err }, 'direct request stream ended')
      stream.abort(err as Error)
    } finally {
      clearTimeout(timer)
    }
  }

  /** Adds the answer's leaf to the open window; resolves to its proof once the window is signed. */
  async #sign(
    task: EntryRecord<Task>,
    request: DirectRequest,
    startedAt: number,
    outcome: { output: unknown; metrics: Record<string, number | string> } | { error: string },
    fileHash: number | string | undefined,
  ): Promise<SignedLeaf | null> {
    const metrics = runMetrics(startedAt, 'metrics' in outcome ? outcome.metrics : {})
    const leaf: AnswerLeaf = {
      request: task.action_hash,
      requester: task.author,
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
      this.#init.logger.warn({ err, request: task.action_hash }, 'could not sign the answer')
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

/** The request as the policies see a task: by its request hash, authored by its requester. */
function asTask(request: DirectRequest, requester: string, hash: string): EntryRecord<Task> {
  const input = payloadDigest(request.input)
  return {
    action_hash: hash,
    author: requester,
    timestamp: nowMicros(),
    entry: {
      kind: request.kind,
      input_hash: input.hash,
      input_bytes: input.bytes,
      input_cid: null,
      requirements: { ...NO_REQUIREMENTS, model: request.model },
      lease_ms: RUN_LIMIT_MS,
      deadline: nowMicros() + RUN_LIMIT_MS * 1000,
      max_attempts: 1,
      fan_out: 1,
    },
  }
}
