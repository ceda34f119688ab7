/**
 * What a request through the direct route is asked with and answers, and the route's counters
 * (direct-inference.ts).
 */
import type { RunProgress } from '../../interface/run-event.ts'
import type { AgentSession } from '../agent-session.ts'
import type { Band } from '../priority.ts'
import type { DirectKind } from './direct-request.ts'
import type { RoutePlanInput } from './route-plan.ts'

export interface DirectCall {
  kind: DirectKind
  model: string
  input: Record<string, unknown>
  /** Aborted when the client goes away: the runner stops. */
  signal: AbortSignal
  /** The peers as the caller read them for this request; read here when absent. */
  peers?: RoutePlanInput['peers']
  /**
   * The run's events: `submitted` with the request's hash (what its record will be found by) before
   * anything is sent; `assigned` once a runner's answer began (its first reasoning, text or output:
   * it is the one answering); its worker's events as they come.
   */
  onEvent?: (event: RunProgress) => void
  /** The caller takes the answer whole: the runner need not send its text as it comes (WorkerContext.whole). */
  whole?: boolean
  /** The agent's session (its headers, agent-session.ts): the conversation is kept by it, not its prefix. */
  session?: AgentSession | null
  /** Its priority band (priority.ts; default interactive: the owner's own). */
  priority?: Band
}

export interface DirectAnswer {
  request: string
  peer: string
  output: unknown
  /** This peer's ServedBatch action once its window is signed; null when the record could not be made. */
  recorded: Promise<string | null>
}

export interface DirectStats {
  requests: number
  /** Candidates that refused or dropped a request before it began (the next one got it). */
  failovers: number
  recorded: number
  unrecorded: number
  /** Turns of a conversation served before that went back to its runner (its prompt cache) ... */
  stayed: number
  /** ... and those that went to another runner (the home was busy, gone, or failed). */
  moved: number
}
