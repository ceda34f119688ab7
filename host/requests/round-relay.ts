/**
 * What a round task's events tell the caller of a request: who took it, why it waits, and the answer
 * as it comes from the attempt whose answer began (a later attempt would be a second answer, so the
 * task is given up). Pure: RequestRunner keeps the state and acts on each step.
 */
import type { RunProgress } from '../interface/run-event.ts'
import { workerEventOf } from '../scheduler/task-signals.ts'
import { isTerminal, type TaskEvent } from '../scheduler/task-watch.ts'

export interface RelayState {
  /** The first assignee: the peer the caller is told took it, whose answer is relayed. */
  assignee: string | null
  /** The latest attempt the task's status named. */
  attempt: number | null
  /** The attempt whose answer the caller began to get. */
  streamed: number | null
}

export const RELAY_START: RelayState = { assignee: null, attempt: null, streamed: null }

export interface RelayStep {
  state: RelayState
  /** What to tell the caller, if anything. */
  tell: RunProgress | null
  /** Why to give the task up, if it must be. */
  giveUp: string | null
}

export interface RelayOptions {
  /** One answer is asked for: fan-out's answers are not relayed as they come. */
  single: boolean
  /** The caller reads the answer as it comes (an answer begun binds the task to its attempt). */
  streams: boolean
}

export function relayStep(state: RelayState, event: TaskEvent, options: RelayOptions): RelayStep {
  const step = (next: RelayState, tell: RunProgress | null = null, giveUp: string | null = null) => ({
    state: next,
    tell,
    giveUp,
  })
  if (event.type === 'waiting') return step(state, { type: 'waiting', reason: event.reason })
  if (event.type === 'status') {
    const next = { ...state, attempt: event.attempt ?? state.attempt }
    const another = event.attempt !== null && event.attempt !== state.streamed
    if (state.streamed !== null && another && !isTerminal(event.status))
      return step(next, null, 'the peer answering it failed after its answer began streaming')
    if (event.assignee !== null && state.assignee === null)
      return step({ ...next, assignee: event.assignee }, { type: 'assigned', peer: event.assignee })
    return step(next)
  }
  const progress = workerEventOf(event.progress)
  const relayed =
    progress !== null &&
    event.assignee === state.assignee &&
    options.single &&
    (state.streamed === null || state.streamed === state.attempt)
  if (!relayed) return step(state)
  const begun = options.streams && progress.type !== 'load'
  return step(begun ? { ...state, streamed: state.streamed ?? state.attempt } : state, progress)
}
