/**
 * Following a task as every client of the API does (the CLI's `task submit --wait`, MCP's tools): to
 * its end, cancelling it once no peer will claim it (the scheduler's rule, `unclaimableReason`).
 */
import { type TaskView, unclaimableReason } from '../contract/index.ts'
import type { ApiClient, FollowTaskOptions } from './api-client.ts'

export interface FollowToEndOptions extends FollowTaskOptions {
  /** The task was cancelled because no peer will claim it; what this throws ends the follow. */
  onUnclaimable?: (reason: string) => void | Promise<void>
}

/** Follows a task until it ends, calling `onEvent` on each event; answers its final view. */
export function followToEnd(
  api: Pick<ApiClient, 'followTask' | 'cancelTask'>,
  hash: string,
  options: FollowToEndOptions = {},
): Promise<TaskView> {
  const { onUnclaimable, onEvent, ...call } = options
  return api.followTask(hash, {
    ...call,
    onEvent: async (event) => {
      await onEvent?.(event)
      const reason = unclaimableReason(event)
      if (reason === null || event.type !== 'waiting') return
      await api.cancelTask(hash, reason)
      await onUnclaimable?.(event.reason)
    },
  })
}
