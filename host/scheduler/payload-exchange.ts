/**
 * A task's input and output travel between its two parties only, as signals to one agent (members
 * only, like every signal): an assignee asks the requester for the input of the attempt it was given
 * (a reassigned attempt asks the same way), and gives it the output before it posts the Result, which
 * names the output by hash alone; a requester holding a Result without its output (the signal lost on
 * a dropped connection) asks the assignee for it again. The requester answers only the assignees of its own task's
 * attempts, and keeps an output only from the assignee of a live attempt, once per attempt and within a
 * signal's payload limit: an output is written to its chain, so no other can be let fill it.
 */
import { z } from 'zod'
import {
  ActionHashB64Schema,
  currentAssignments,
  LIMITS,
  type Task,
  type TaskState,
} from '../../zomes-bindings/index.ts'
import { payloadBytes, payloadDigest } from '../identity/payload-hash.ts'
import type { ConductorPort, Signal } from '../interface/conductor-port.ts'
import type { Logger } from '../log/logger.ts'
import type { PrivatePayloads } from './private-payloads.ts'
import { unsalted } from './salted-payload.ts'

/** Lenient, as every signal is: fields a newer release adds are ignored (the rule for change). */
const PayloadSignalSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('task-input-ask'),
    task: ActionHashB64Schema,
    assignment: ActionHashB64Schema,
  }),
  z.object({ type: z.literal('task-input'), task: ActionHashB64Schema, content: z.json() }),
  z.object({
    type: z.literal('task-output-ask'),
    task: ActionHashB64Schema,
    assignment: ActionHashB64Schema,
  }),
  z.object({
    type: z.literal('task-output'),
    task: ActionHashB64Schema,
    assignment: ActionHashB64Schema,
    content: z.json(),
  }),
])
type PayloadSignal = z.infer<typeof PayloadSignalSchema>
type OutputSignal = Extract<PayloadSignal, { type: 'task-output' }>
type AskSignal = Extract<PayloadSignal, { type: 'task-input-ask' | 'task-output-ask' }>

/** How long an ask waits for the requester before it asks again (a signal may be lost on the way). */
const ASK_AGAIN_MS = 3000
/** How long after a failed delivery of an output it is tried again. */
const GIVE_AGAIN_MS = 500
/**
 * Inputs a requester sent with an assignment, held until this peer's attempt takes them: at most this
 * many, each at most INPUT_GIVEN_BYTES (a larger one is asked for, as a lost one is).
 */
const INPUTS_GIVEN = 256
const INPUT_GIVEN_BYTES = 64 * 1024

export interface PayloadExchangeInit {
  conductor: Pick<ConductorPort, 'agentPubKey' | 'sendSignal'>
  payloads: PrivatePayloads
  /** The task's records as this peer holds them (null when unknown). */
  state: (task: string) => Promise<TaskState | null>
  /** An output arrived for one of this peer's tasks: its Result may be judged now. */
  onOutput: (task: string) => void
  logger: Logger
}

interface Waiting {
  from: string
  hash: string
  resolve: (content: unknown) => void
}

export class PayloadExchange {
  readonly #init: PayloadExchangeInit
  /** Inputs asked for, by task. */
  readonly #asked = new Map<string, Set<Waiting>>()
  /** Attempts of this peer's tasks whose output was kept (one per attempt; this peer wrote each). */
  readonly #outputs = new Set<string>()
  /** Inputs given before this peer asked, by task, with who sent them (checked when taken). */
  readonly #given = new Map<string, { from: string; hash: string; content: unknown }>()
  /** Attempts whose output this peer is asking their assignee for. */
  readonly #askingOutput = new Set<string>()

  constructor(init: PayloadExchangeInit) {
    this.#init = init
  }

  /** Handles a payload signal; false when the signal is not one. */
  onSignal(signal: Signal): boolean {
    if (signal.dna !== 'resource_mesh') return false
    const parsed = PayloadSignalSchema.safeParse(signal.payload)
    if (!parsed.success) return false
    this.#handle(signal.from, parsed.data).catch((err: unknown) =>
      this.#init.logger.warn(
        { err, from: signal.from, type: parsed.data.type },
        'a task payload signal failed',
      ),
    )
    return true
  }

  /** The input of `task` for attempt `assignment` here: held here, or asked of the requester until given. */
  async input(
    task: { action_hash: string; author: string; entry: Task },
    assignment: string,
    signal: AbortSignal,
  ) {
    const hash = task.entry.input_hash
    const held = await this.#init.payloads.get(hash)
    if (held !== undefined || task.author === this.#init.conductor.agentPubKey) {
      if (held === undefined)
        throw new Error(`this peer no longer holds the input of its own task ${task.action_hash}`)
      return held
    }
    const early = this.#given.get(task.action_hash)
    this.#given.delete(task.action_hash)
    if (early?.from === task.author && early.hash === hash) return early.content
    const given = new Promise<unknown>((resolve) => {
      const waiting: Waiting = { from: task.author, hash, resolve }
      const all = this.#asked.get(task.action_hash) ?? new Set()
      all.add(waiting)
      this.#asked.set(task.action_hash, all)
      const forget = () => {
        all.delete(waiting)
        if (all.size === 0) this.#asked.delete(task.action_hash)
      }
      signal.addEventListener('abort', forget, { once: true })
      waiting.resolve = (content) => {
        forget()
        resolve(content)
      }
    })
    const stop = aborted(signal)
    stop.catch(() => {})
    for (;;) {
      signal.throwIfAborted()
      const ask = { type: 'task-input-ask', task: task.action_hash, assignment } satisfies PayloadSignal
      await this.#init.conductor
        .sendSignal('resource_mesh', task.author, ask)
        .catch((err: unknown) =>
          this.#init.logger.debug(
            { err, task: task.action_hash },
            'asking the requester for the input failed',
          ),
        )
      const content = await Promise.race([given, stop, delay(ASK_AGAIN_MS)])
      if (content !== NOTHING) return content
    }
  }

  /**
   * Sends the input of this peer's `task` to `assignee` as it is assigned, so its attempt need not ask
   * (a signal, and this peer's read of the task to check the asker, saved per task). The one it was
   * assigned to only, as an ask would be answered; one that is lost is asked for as before.
   */
  async giveInput(task: { action_hash: string; entry: Task }, assignee: string): Promise<void> {
    // A large one waits to be asked for: an assignee holds only small ones given before it asks.
    if (assignee === this.#init.conductor.agentPubKey || task.entry.input_bytes > INPUT_GIVEN_BYTES) return
    const content = await this.#init.payloads.get(task.entry.input_hash)
    if (content === undefined) return
    const give = { type: 'task-input', task: task.action_hash, content } as PayloadSignal
    await this.#init.conductor
      .sendSignal('resource_mesh', assignee, give)
      .catch((err: unknown) =>
        this.#init.logger.debug(
          { err, task: task.action_hash },
          'giving the input with its assignment failed',
        ),
      )
  }

  /**
   * Asks the assignee of attempt `assignment` of this peer's `task` for the output its Result names,
   * every ASK_AGAIN_MS until the output is kept or `untilMs` (its lease's end) passes; one ask loop per
   * attempt.
   */
  async askOutput(task: string, assignment: string, assignee: string, untilMs: number): Promise<void> {
    if (this.#askingOutput.has(assignment) || this.#outputs.has(assignment)) return
    this.#askingOutput.add(assignment)
    const ask = { type: 'task-output-ask', task, assignment } satisfies PayloadSignal
    try {
      while (!this.#outputs.has(assignment) && Date.now() < untilMs) {
        await this.#init.conductor
          .sendSignal('resource_mesh', assignee, ask)
          .catch((err: unknown) =>
            this.#init.logger.debug({ err, task }, 'asking the assignee for the output failed'),
          )
        const left = untilMs - Date.now()
        await delay(Math.min(ASK_AGAIN_MS, Math.max(0, left)))
        // That wait ran to the lease's end: no ask after it (a timer may wake a millisecond early, and
        // an ask sent then was a second one the assignee refused or answered for nothing).
        if (left <= ASK_AGAIN_MS) break
      }
    } finally {
      this.#askingOutput.delete(assignment)
    }
  }

  /**
   * Gives the output of attempt `assignment` to the task's requester (and keeps it here); its hash.
   * A requester out of reach (a relayed connection being redialled) is tried again until `signal`
   * ends the attempt: the output is worth its lease.
   */
  async giveOutput(
    task: { action_hash: string; author: string },
    assignment: string,
    content: unknown,
    signal: AbortSignal,
  ) {
    const hash = await this.#init.payloads.keep(content)
    if (task.author === this.#init.conductor.agentPubKey) return hash
    const give = { type: 'task-output', task: task.action_hash, assignment, content } as PayloadSignal
    const stop = aborted(signal)
    stop.catch(() => {})
    for (;;) {
      signal.throwIfAborted()
      try {
        await this.#init.conductor.sendSignal('resource_mesh', task.author, give)
        return hash
      } catch (err) {
        this.#init.logger.debug(
          { err, task: task.action_hash },
          'the requester is out of reach; trying again',
        )
        await Promise.race([delay(GIVE_AGAIN_MS), stop])
      }
    }
  }

  async #handle(from: string, signal: PayloadSignal): Promise<void> {
    if (signal.type === 'task-input') {
      const { hash, bytes } = payloadDigest(signal.content)
      const waiting = [...(this.#asked.get(signal.task) ?? [])].filter(
        (w) => w.from === from && w.hash === hash,
      )
      for (const w of waiting) w.resolve(signal.content)
      // Given with the assignment, before the attempt asks: held for it, within bounds.
      if (waiting.length === 0 && bytes <= INPUT_GIVEN_BYTES) {
        this.#given.delete(signal.task)
        if (this.#given.size >= INPUTS_GIVEN) this.#given.delete(this.#given.keys().next().value!)
        this.#given.set(signal.task, { from, hash, content: signal.content })
      }
      return
    }
    if (signal.type === 'task-output') return this.#takeOutput(from, signal)
    if (signal.type === 'task-output-ask') return this.#giveOutputAgain(from, signal)
    const state = await this.#init.state(signal.task)
    const me = this.#init.conductor.agentPubKey
    // Only this peer's own task, and only to (from) the agent it gave that attempt to.
    const given = state?.assignments.find((a) => a.action_hash === signal.assignment)
    if (!state || state.task.author !== me || given?.entry.assignee !== from) {
      this.#init.logger.warn(
        { from, task: signal.task, type: signal.type },
        'a task payload signal from a peer not assigned the task',
      )
      return
    }
    const content = await this.#init.payloads.get(state.task.entry.input_hash)
    if (content === undefined) throw new Error(`the input of task ${signal.task} is not held here`)
    const reply = { type: 'task-input', task: signal.task, content } as PayloadSignal
    await this.#init.conductor.sendSignal('resource_mesh', from, reply)
  }

  /**
   * Gives again the output of this peer's ok Result for `signal.assignment`, to the task's requester
   * only: what it was given before, kept here under the hash the Result names.
   */
  async #giveOutputAgain(from: string, signal: AskSignal): Promise<void> {
    const state = await this.#init.state(signal.task)
    const me = this.#init.conductor.agentPubKey
    const mine = state?.results.find(
      (r) => r.entry.assignment === signal.assignment && r.author === me && r.entry.status === 'ok',
    )
    if (!state || state.task.author !== from || mine === undefined) {
      this.#init.logger.warn(
        { from, task: signal.task, assignment: signal.assignment },
        'an output asked for by a peer not its requester, or of no result of this peer',
      )
      return
    }
    const content = await this.#init.payloads.get(mine.entry.output_hash)
    if (content === undefined) throw new Error(`the output of task ${signal.task} is not held here`)
    const give = {
      type: 'task-output',
      task: signal.task,
      assignment: signal.assignment,
      content,
    } as PayloadSignal
    await this.#init.conductor.sendSignal('resource_mesh', from, give)
  }

  /** Keeps an output `#admitOutput` admits; any other is dropped before anything is written. */
  async #takeOutput(from: string, signal: OutputSignal): Promise<void> {
    const refused = await this.#admitOutput(from, signal)
    if (refused !== null) {
      this.#init.logger.debug(
        { from, task: signal.task, assignment: signal.assignment, why: refused },
        'a task output dropped',
      )
      return
    }
    try {
      await this.#init.payloads.keep(signal.content)
    } catch (err) {
      // Not kept: the attempt's output may still come.
      this.#outputs.delete(signal.assignment)
      throw err
    }
    this.#init.onOutput(signal.task)
  }

  /**
   * Why an output is refused, or null when it is admitted (its attempt marked in the same turn as
   * the check, so a second output at the same time finds it taken): only for a current attempt of this peer's own
   * task still open (a past attempt's assignee has nothing to give), from that attempt's assignee,
   * the first for the attempt, within a signal's payload limit (larger goes sealed on IPFS), and salted
   * with the task's salt.
   */
  async #admitOutput(from: string, signal: OutputSignal): Promise<string | null> {
    const state = await this.#init.state(signal.task)
    if (!state || state.task.author !== this.#init.conductor.agentPubKey) return 'not a task of this peer'
    if (state.receipt || state.cancellation) return 'the task is over'
    const attempt = currentAssignments(state.assignments).find((a) => a.action_hash === signal.assignment)
    if (attempt === undefined) return 'not a live attempt of the task'
    if (attempt.entry.assignee !== from) return 'not from the assignee of the attempt'
    const bytes = payloadBytes(signal.content).length
    const max = LIMITS.task.payload_json_bytes.max
    if (bytes > max) return `${bytes} bytes of JSON, above the ${max} a signal carries`
    // Salted as the input was (or neither): an output's hash confirms nothing to a bystander either.
    const input = await this.#init.payloads.get(state.task.entry.input_hash)
    if (unsalted(signal.content).salt !== unsalted(input).salt) return 'not salted with the task’s salt'
    if (this.#outputs.has(signal.assignment)) return 'an output of this attempt is kept already'
    this.#outputs.add(signal.assignment)
    return null
  }
}

const NOTHING = Symbol('nothing')

function delay(ms: number): Promise<typeof NOTHING> {
  return new Promise((resolve) => setTimeout(() => resolve(NOTHING), ms).unref())
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason)
    signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}
