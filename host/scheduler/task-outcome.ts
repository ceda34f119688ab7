/** What a task came to, read from its view: the result the requester accepted, or why it ended otherwise. */
import { type EntryRecord, fitText, LIMITS, type TaskResult } from '../../zomes-bindings/index.ts'
import type { TaskView } from './scheduler-service.ts'
import type { TaskEvent } from './task-watch.ts'

/** The result the receipt chose (accepted, for a task that is done), or null. */
export function acceptedResult(view: TaskView): EntryRecord<TaskResult> | null {
  return view.state.results.find((r) => r.action_hash === view.state.receipt?.entry.result) ?? null
}

/** The output of the result the requester accepted (opened, when sealed on IPFS), or null where it is not held. */
export function acceptedOutput(view: TaskView): unknown {
  const result = acceptedResult(view)
  if (result === null) return null
  return view.payloads.outputs[result.action_hash] ?? null
}

/** Why a task ended other than done, as far as its records say. */
export function whyEnded(view: TaskView): string {
  const { receipt, cancellation } = view.state
  return cancellation?.entry.reason ?? receipt?.entry.reason ?? view.why_unclaimed ?? ''
}

/**
 * The reason to cancel a task with now, or null: once no peer will claim it (none capable, or each had
 * its chance) waiting helps nobody, and cancelled it ends at once, its outcome saying why, rather than
 * at its deadline or by running later for nobody. Every follower of a task asks this of each event.
 */
export function unclaimableReason(event: TaskEvent): string | null {
  if (event.type !== 'waiting' || !event.unclaimable) return null
  return fitText(`nobody can serve it: ${event.reason}`, LIMITS.reason.max, true)
}
