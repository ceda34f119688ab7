/**
 * How a request routed straight to a runner ends without an answer: every candidate turned it down
 * (and why, per peer), no runner reachable this way, or the runner lost after its answer began. The
 * first and last are the run's own outcome (RunError, run-errors.ts), said where they are made: the
 * runners' refusals become it here, nowhere else.
 */
import { mistakeAnywhere, RunError } from '../run-errors.ts'
import type { Refusal } from './direct-wire.ts'

/** Why one candidate did not run a request: its refusal as it said it, or that it could not be reached. */
export type Turndown = Omit<Refusal, 'why'> & {
  agent: string
  why: Refusal['why'] | 'unavailable/unreachable'
}

/** When a runner that refused by policy names no time to try again (its policies may read slots, which free soon). */
export const DEFAULT_RETRY_AFTER_S = 10

/**
 * Every candidate turned the request down (or none has the model); `reasons` says why, per peer. As a
 * run's outcome: the caller's mistake, as the runner that found it said it (one any runner would find,
 * or a prompt over the context of every runner reached); else every runner reached busy (even after
 * queueing at one), lacking the memory for the model, or refusing by policy or busy (a limit, which
 * lifts at the earliest time a runner said); else none could run it.
 */
export class NoRunnerError extends RunError {
  constructor(
    readonly model: string,
    readonly reasons: Turndown[],
  ) {
    super(...outcomeOf(model, reasons))
  }
}

/** The run's outcome the runners' refusals make (RunError's arguments). */
function outcomeOf(model: string, reasons: Turndown[]): ConstructorParameters<typeof RunError> {
  const said = reasons.map((r) => `${r.agent.slice(0, 12)}…: ${r.message}`).join('; ')
  const message = `no peer could run model "${model}" now${said ? ` (${said})` : ''}`
  const mistake = callerMistakeOf(reasons)
  if (mistake) return ['invalid', mistake.code, mistake.message, mistake.field ?? null]
  if (only(reasons, ['busy'])) return ['busy', 'peers_busy', `${message}; try again shortly`]
  if (only(reasons, ['unavailable/no_room'])) return ['unavailable/no_room', 'no_room', message]
  if (only(reasons, ['busy/limited', 'busy'])) {
    const limited = reasons.filter((r) => r.why === 'busy/limited')
    const retryAfterS = Math.min(...limited.map((r) => r.retry_after_s ?? DEFAULT_RETRY_AFTER_S))
    return ['busy/limited', 'rate_limit_exceeded', message, null, retryAfterS]
  }
  return ['unavailable', 'no_capacity', message]
}

/** Some runner said `whys[0]`, and every one reached said one of `whys`. */
function only(reasons: Turndown[], whys: Turndown['why'][]): boolean {
  return (
    reasons.some((r) => r.why === whys[0]) &&
    reasons.every((r) => r.why === 'unavailable/unreachable' || whys.includes(r.why))
  )
}

/** The refusal that says the caller's mistake, when the runners reached make it one. */
function callerMistakeOf(reasons: Turndown[]): (Turndown & { code: string }) | null {
  const reached = reasons.filter((r) => r.why !== 'unavailable/unreachable')
  const said =
    reached.find((r) => r.code !== undefined && mistakeAnywhere(r.code)) ??
    (reached.every((r) => r.code !== undefined) ? reached[0] : undefined)
  return said?.code === undefined ? null : { ...said, code: said.code }
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
export class RunnerLostError extends RunError {
  constructor(
    readonly peer: string,
    why: string,
  ) {
    super(
      'failed/upstream',
      'runner_lost',
      `the peer ${peer} answering it stopped after its answer began (${why})`,
    )
  }
}
