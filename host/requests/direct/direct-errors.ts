/**
 * How a request routed straight to a runner ends without an answer: every candidate turned it down
 * (and why, per peer), no runner reachable this way, or the runner lost after its answer began.
 */
import { type CallerMistake, mistakeAnywhere, RunError } from '../run-errors.ts'
import type { Refusal } from './direct-wire.ts'

/** Why one candidate did not run a request. */
export interface Turndown {
  agent: string
  why: Refusal | 'unreachable'
  message: string
  /** The request's own fault, as the runner's engine found it. */
  mistake?: CallerMistake | null
  /** A refusal by policy that lifts by itself: in how many seconds, as the runner said. */
  retryAfterS?: number | null
}

/** When a runner that refused by policy names no time to try again (its policies may read slots, which free soon). */
export const DEFAULT_RETRY_AFTER_S = 10

/** Every candidate turned the request down (or none has the model); `reasons` says why, per peer. */
export class NoRunnerError extends Error {
  static override readonly name = 'NoRunnerError'
  constructor(
    readonly model: string,
    readonly reasons: Turndown[],
  ) {
    const said = reasons.map((r) => `${r.agent.slice(0, 12)}…: ${r.message}`).join('; ')
    super(`no peer could run model "${model}" now${said ? ` (${said})` : ''}`)
    this.name = 'NoRunnerError'
  }

  /** Every runner that could be reached was busy (even after queueing at one). */
  get busy(): boolean {
    return (
      this.reasons.some((r) => r.why === 'busy') &&
      this.reasons.every((r) => r.why === 'busy' || r.why === 'unreachable')
    )
  }

  /** Every runner reached refused it by policy or was busy (a limit of each, not a fault). */
  get limited(): boolean {
    return (
      this.reasons.some((r) => r.why === 'policy') &&
      this.reasons.every((r) => r.why === 'policy' || r.why === 'busy' || r.why === 'unreachable')
    )
  }

  /** The earliest time a runner that refused by policy would take it (one naming none: DEFAULT_RETRY_AFTER_S). */
  get retryAfterS(): number {
    const policy = this.reasons.filter((r) => r.why === 'policy')
    return Math.min(...policy.map((r) => r.retryAfterS ?? DEFAULT_RETRY_AFTER_S))
  }

  /** Every runner reached lacked the memory for the model now (the busy ones, after queueing at one). */
  get noRoom(): boolean {
    return (
      this.reasons.some((r) => r.why === 'no_room') &&
      this.reasons.every((r) => r.why === 'no_room' || r.why === 'unreachable')
    )
  }

  /**
   * The caller's mistake, as the runner that found it said it: one any runner would find, or a prompt
   * over the context of every runner reached.
   */
  callerMistake(): RunError | null {
    const reached = this.reasons.filter((r) => r.why !== 'unreachable')
    const said =
      reached.find((r) => r.mistake && mistakeAnywhere(r.mistake)) ??
      (reached.every((r) => r.mistake) ? reached[0] : undefined)
    const mistake = said?.mistake
    return mistake ? new RunError('invalid_input', mistake.code, said.message, mistake.field) : null
  }
}

/** No runner is reachable straight (no mesh streams on this backend, no model here). */
export class NoDirectRouteError extends Error {
  static override readonly name = 'NoDirectRouteError'
  constructor(model: string) {
    super(`no runner of model "${model}" can be reached straight from here`)
    this.name = 'NoDirectRouteError'
  }
}

/** The runner failed after its answer began: the client has part of it, and gets no second one. */
export class RunnerLostError extends Error {
  static override readonly name = 'RunnerLostError'
  constructor(
    readonly peer: string,
    why: string,
  ) {
    super(`the peer ${peer} answering it stopped after its answer began (${why})`)
    this.name = 'RunnerLostError'
  }
}
