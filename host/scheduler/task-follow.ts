/**
 * Following a task to its end as every follower does (the CLI's `task submit --wait` and MCP's tools
 * through the API, a request on the scheduling round through the scheduler's own watch), cancelling
 * it once no peer will claim it (the scheduler's rule, `unclaimableReason`). Loads no node-only
 * module: the API's typed client runs it in the browser too.
 */
import type { TaskView } from './scheduler-service.ts'
import { unclaimableReason } from './task-outcome.ts'
import type { TaskEvent } from './task-watch.ts'

export interface FollowOptions {
  /** Every status change and progress event, as it arrives (awaited: what it throws ends the follow). */
  onEvent?: (event: TaskEvent) => void | Promise<void>
}

/** Where a task is followed from: its events until it ends, then its final view; and its cancel. */
export interface TaskFollower<O extends FollowOptions> {
  followTask(hash: string, options?: O): Promise<TaskView>
  cancelTask(hash: string, reason: string): Promise<unknown>
}

export type FollowToEndOptions<O extends FollowOptions = FollowOptions> = O & {
  /** The task was cancelled because no peer will claim it; what this throws ends the follow. */
  onUnclaimable?: (reason: string) => void | Promise<void>
}

/** Follows a task until it ends, calling `onEvent` on each event; answers its final view. */
export function followToEnd<O extends FollowOptions>(
  follower: TaskFollower<O>,
  hash: string,
  options?: FollowToEndOptions<NoInfer<O>>,
): Promise<TaskView> {
  const { onUnclaimable, onEvent, ...call } = options ?? ({} as FollowToEndOptions<NoInfer<O>>)
  return follower.followTask(hash, {
    ...call,
    onEvent: async (event: TaskEvent) => {
      await onEvent?.(event)
      const reason = unclaimableReason(event)
      if (reason === null || event.type !== 'waiting') return
      await follower.cancelTask(hash, reason)
      await onUnclaimable?.(event.reason)
    },
  } as O)
}
