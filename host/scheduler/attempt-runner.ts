/**
 * The assignee's side: runs the worker of an attempt assigned to this host, at most one per task,
 * with an AbortSignal that fires on lease expiry (the lease running on while the worker makes
 * progress), cancellation, a newer attempt or host stop, and posts
 * the signed Result: ok with the output's hash (the output, or the key to it sealed on IPFS, given to
 * the requester first), or error with the reason. An aborted attempt posts nothing: its lease is gone,
 * and a result from it would only arrive late.
 */
import {
  type ClaimSnapshot,
  type EntryRecord,
  fitText,
  LIMITS,
  type RecordRef,
  type Task,
  type TaskResult,
} from '../../zomes-bindings/index.ts'
import { payloadHash } from '../identity/payload-hash.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { Logger } from '../log/logger.ts'
import type { PoliciesPort } from '../policy/policies-port.ts'
import { taskQuestion } from '../policy/run-question.ts'
import { nowMicros } from '../runtime/clock.ts'
import { runMetrics } from '../workers/run-metrics.ts'
import type { WorkersPort } from '../workers/workers-port.ts'
import { leaseEnd } from './attempt-pulse.ts'
import type { PayloadExchange } from './payload-exchange.ts'
import { salted, unsalted } from './salted-payload.ts'
import { getSealed, putSealed, type TaskPayloads } from './task-payloads.ts'
import { type SignalProgress, signalProgress, type TaskSignal } from './task-signals.ts'

/** Longest a Result waits for the attempt's streamed progress to be delivered. */
const PROGRESS_FLUSH_MS = 1000
/** How long a run goes before it says it started (unless it streams first). */
export const QUIET_RUN_MS = 50

/** Resolves when `promise` settles or after `ms`, whichever comes first. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
  })
  return Promise.race([promise.then(() => {}), timeout]).finally(() => clearTimeout(timer))
}

export interface AttemptRunnerInit {
  conductor: Pick<ConductorPort, 'agentPubKey' | 'callZome' | 'sendSignal'>
  workers: WorkersPort
  policies: Pick<PoliciesPort, 'decide'>
  /** Called on each event of a running attempt's worker: the attempt is alive (./attempt-pulse.ts). */
  onHeard?: (assignment: string) => void
  /** Called when an attempt of the task ends, however it ends. */
  onEnded: (task: string) => void
  /** Writes the Result of an attempt (the scheduler's writes apply it to its read model). */
  postResult: (result: TaskResult) => Promise<RecordRef>
  /** The input from the requester, the output to it (both kept private by the two). */
  exchange: PayloadExchange
  /** IPFS for inputs and outputs too large to travel as signals; without it such tasks fail. */
  payloads?: TaskPayloads
  logger: Logger
}

/** An attempt this host runs: its task, its assignment, and when its lease runs out (microseconds). */
export interface Attempt {
  task: EntryRecord<Task>
  assignment: string
  leaseExpiresAt: number
}

/** Why a running worker was aborted. */
export class AttemptAbortedError extends Error {
  static override readonly name = 'AttemptAbortedError'
  constructor(reason: string) {
    super(reason)
    this.name = 'AttemptAbortedError'
  }
}

interface Running {
  assignment: string
  controller: AbortController
}

export class AttemptRunner {
  readonly #init: AttemptRunnerInit
  /** Task hash -> the attempt running for it. */
  readonly #running = new Map<string, Running>()
  readonly #runs = new Set<Promise<void>>()

  constructor(init: AttemptRunnerInit) {
    this.#init = init
  }

  /** Attempts running now. */
  get size(): number {
    return this.#running.size
  }

  /** The assignment this host runs for a task, if any. */
  runningAssignment(task: string): string | undefined {
    return this.#running.get(task)?.assignment
  }

  /** Starts the attempt in the background (nothing happens if the task already has one running). */
  start(attempt: Attempt, snapshot: ClaimSnapshot | null): void {
    if (this.#running.has(attempt.task.action_hash)) return
    const run = this.#run(attempt, snapshot)
    this.#runs.add(run)
    void run.finally(() => this.#runs.delete(run))
  }

  /** Aborts the task's attempt unless it is `keep` (the assignment still current). */
  abort(task: string, reason: string, keep?: string): void {
    const running = this.#running.get(task)
    if (running && running.assignment !== keep) running.controller.abort(new AttemptAbortedError(reason))
  }

  /** Aborts every attempt whose task is not in `tasks`. */
  abortOthers(tasks: ReadonlySet<string>, reason: string): void {
    for (const task of this.#running.keys()) if (!tasks.has(task)) this.abort(task, reason)
  }

  /** Aborts everything and waits until every attempt has ended. */
  async stop(): Promise<void> {
    for (const task of this.#running.keys()) this.abort(task, 'the host is stopping')
    await Promise.allSettled([...this.#runs])
  }

  async #run({ task, assignment, leaseExpiresAt }: Attempt, snapshot: ClaimSnapshot | null): Promise<void> {
    const hash = task.action_hash
    const me = this.#init.conductor.agentPubKey
    const controller = new AbortController()
    this.#running.set(hash, { assignment, controller })
    // The lease runs on while the worker makes progress (./attempt-pulse.ts); the requester hears it too.
    let heardAt: number | undefined
    let leaseTimer: NodeJS.Timeout | undefined
    const watchLease = () => {
      const left = Math.min(leaseEnd(leaseExpiresAt / 1000, heardAt), task.entry.deadline / 1000) - Date.now()
      if (left > 0) leaseTimer = setTimeout(watchLease, left)
      else controller.abort(new AttemptAbortedError('the lease expired'))
    }
    leaseTimer = setTimeout(watchLease, Math.max(0, leaseExpiresAt / 1000 - Date.now()))
    const heard = () => {
      heardAt = Date.now()
      this.#init.onHeard?.(assignment)
    }
    const startedAt = nowMicros()
    // To the requester only: nobody else is waiting on this attempt's tokens. Signals to one agent
    // go in order, so the last one sent settling means every one before it has too.
    let lastProgress: Promise<void> | null = null
    const signal = (event: TaskSignal['event'], progress: SignalProgress | null) => {
      const sent = this.#init.conductor
        .sendSignal('resource_mesh', task.author, { type: 'task', task: hash, assignment, event, progress })
        .catch((err: unknown) => this.#init.logger.debug({ err }, 'task signal not sent'))
      if (event === 'progress') lastProgress = sent
    }
    // A run says it started once it has lasted a while or streams: one that ends sooner is told by
    // its Result alone, a signal less (a sign, a stream and a verify) on the way to it.
    let startedTimer: NodeJS.Timeout | undefined
    let announced = false
    const announce = () => {
      clearTimeout(startedTimer)
      if (announced) return
      announced = true
      signal('started', null)
    }
    try {
      const verdict = await this.#init.policies.decide({
        action: 'run',
        subject: me,
        snapshot,
        run: taskQuestion(task),
        decidedBy: me,
      })
      if (!verdict.allowed) throw new Error(`denied by policy: ${verdict.reason}`)
      const worker = this.#init.workers.get(task.entry.kind)
      if (worker === undefined) throw new Error(`this host has no worker for kind ${task.entry.kind}`)
      const given = await this.#input(task, assignment, controller.signal)
      const input = worker.input.parse(given.content)
      startedTimer = setTimeout(announce, QUIET_RUN_MS)
      const outcome = await worker.run(input, {
        signal: controller.signal,
        onEvent: (event) => {
          heard()
          announce()
          signal('progress', signalProgress(event))
        },
      })
      clearTimeout(startedTimer)
      const output = worker.output.parse(outcome.output)
      const json = JSON.stringify(output)
      const size = Buffer.byteLength(json)
      let sealed: Awaited<ReturnType<typeof putSealed>> | null = null
      if (size > LIMITS.task.payload_json_bytes.max) {
        if (this.#init.payloads === undefined) {
          throw new Error(
            `the output is ${size} bytes of JSON, above the ${LIMITS.task.payload_json_bytes.max} a signal carries`,
          )
        }
        sealed = await putSealed(this.#init.payloads, json, controller.signal)
      }
      // A stream reaches the requester whole before the Result that ends it (which travels by
      // gossip), unless its delivery lags: the Result, due within the lease, never waits long for it.
      if (lastProgress !== null) await settledWithin(lastProgress, PROGRESS_FLUSH_MS)
      controller.signal.throwIfAborted()
      // The requester holds the output (or, sealed on IPFS, its key) before the Result naming it by
      // hash can reach it; salted with the input's salt, if it came salted.
      const payload = sealed?.key ?? output
      const hash = await this.#init.exchange.giveOutput(
        task,
        assignment,
        given.salt === null ? payload : salted(payload, given.salt),
        controller.signal,
      )
      const result = await this.#post(task, assignment, startedAt, {
        hash,
        cid: sealed?.put.cid ?? null,
        metrics: outcome.metrics ?? {},
      })
      if (sealed !== null) {
        // Registered once the Result exists, so the Artifact's provenance names it.
        await this.#init.payloads!.register(sealed.put, `${task.entry.kind}-output.sealed`, {
          task: task.action_hash,
          result: result.action_hash,
          input_cids: task.entry.input_cid === null ? [] : [task.entry.input_cid],
          tool: task.entry.kind,
          model: task.entry.requirements.model,
        })
      }
    } catch (err) {
      if (controller.signal.aborted) {
        this.#init.logger.info(
          { task: hash, reason: (controller.signal.reason as Error).message },
          'attempt aborted',
        )
      } else {
        await this.#post(task, assignment, startedAt, { error: (err as Error).message || String(err) }).catch(
          (postErr: unknown) =>
            this.#init.logger.warn({ err: postErr, task: hash }, 'could not post the error result'),
        )
      }
    } finally {
      clearTimeout(leaseTimer)
      clearTimeout(startedTimer)
      this.#running.delete(hash)
      this.#init.onEnded(hash)
    }
  }

  async #post(
    task: EntryRecord<Task>,
    assignment: string,
    startedAt: number,
    outcome:
      | { hash: string; cid: string | null; metrics: Record<string, number | string> }
      | { error: string },
  ): Promise<RecordRef> {
    const ok = 'hash' in outcome
    const result: TaskResult = {
      task: task.action_hash,
      assignment,
      status: ok ? 'ok' : 'error',
      output_cid: ok ? outcome.cid : null,
      // For an output sealed on IPFS: the hash of its key record, which only the two parties hold.
      output_hash: ok ? outcome.hash : payloadHash(null),
      error: 'error' in outcome ? fitText(outcome.error, LIMITS.result.error.max, true) : null,
      metrics: runMetrics(startedAt, ok ? outcome.metrics : {}),
    }
    return this.#init.postResult(result)
  }

  /**
   * The task's input from the requester (checked against the Task's hash), out of its envelope with
   * its salt, if salted; when it travels by CID, what the requester gives is its key record, and the
   * sealed input is fetched from IPFS and opened (both checked).
   */
  async #input(
    task: EntryRecord<Task>,
    assignment: string,
    signal: AbortSignal,
  ): Promise<{ content: unknown; salt: string | null }> {
    const cid = task.entry.input_cid
    if (cid !== null && this.#init.payloads === undefined)
      throw new Error('this host fetches no inputs from IPFS')
    const given = unsalted(await this.#init.exchange.input(task, assignment, signal))
    if (cid === null) return given
    const opened = await getSealed(this.#init.payloads!, given.content, cid, signal)
    return { content: opened.content, salt: given.salt }
  }
}
