/**
 * Runs a task on the mesh for a tool: submits it, reports its status changes and progress to the MCP
 * client as they come, and cancels it when the client cancels the call.
 */
import { type ApiClient, followToEnd } from '../client/index.ts'
import {
  acceptedOutput,
  acceptedResult,
  type SubmitTaskBody,
  type TaskEvent,
  type TaskView,
  whyEnded,
} from '../contract/index.ts'
import { progressSender, type ToolExtra } from './tool-reply.ts'

/** One progress message per event: streamed text as it is, other events as a short line. */
function progressMessage(event: TaskEvent): string {
  if (event.type === 'status') {
    const where = event.assignee ? ` (attempt ${event.attempt} on ${event.assignee})` : ''
    return `${event.status}${where}`
  }
  if (event.type === 'waiting') return `waiting for a claim: ${event.reason}`
  const { type, data } = event.progress
  return type === 'token' && typeof data === 'string' ? data : `${type} ${JSON.stringify(data)}`
}

/** Submits and follows a task until it ends; answers its final view. Cancelling the call cancels the task. */
export async function runTask(api: ApiClient, body: SubmitTaskBody, extra: ToolExtra): Promise<TaskView> {
  const ref = await api.submitTask(body, { signal: extra.signal })
  const send = progressSender(extra)
  try {
    return await followToEnd(api, ref.action_hash, {
      signal: extra.signal,
      onEvent: (event) => send(progressMessage(event)),
    })
  } catch (err) {
    // The task is this peer's: nobody waits for it any more, so the mesh need not run it.
    if (extra.signal.aborted)
      await api.cancelTask(ref.action_hash, 'cancelled by the MCP client').catch(() => {})
    throw err
  }
}

/** A task's outcome as tools answer it: its output, the signed result chosen and who signed it, the votes. */
export function taskOutcome(view: TaskView) {
  const { task, status, receipt } = view.state
  const result = acceptedResult(view)
  return {
    task: task.action_hash,
    status,
    output: acceptedOutput(view),
    /** The Result entry the requester accepted, signed on its author's (the runner's) source chain. */
    result: result && {
      action_hash: result.action_hash,
      author: result.author,
      timestamp: result.timestamp,
      status: result.entry.status,
      metrics: result.entry.metrics,
    },
    receipt: receipt && {
      action_hash: receipt.action_hash,
      accepted: receipt.entry.accepted,
      reason: receipt.entry.reason,
      usage: receipt.entry.usage,
    },
    /** One per answer when the task fanned out: who answered, with which model file, and whether it agrees. */
    votes: receipt?.entry.votes ?? [],
    why: status === 'done' ? null : whyEnded(view) || null,
  }
}
