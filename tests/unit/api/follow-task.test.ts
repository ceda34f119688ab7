/**
 * Following a task as the CLI and MCP do: every event is seen, and once no peer will claim the task
 * it is cancelled with the scheduler's reason (what `onUnclaimable` throws ends the follow).
 */
import { describe, expect, it } from 'vitest'
import { type FollowTaskOptions, followToEnd } from '../../../host/api/client/index.ts'
import type { TaskEvent, TaskView } from '../../../host/api/contract/index.ts'

const VIEW = { state: { status: 'cancelled' } } as unknown as TaskView

/** A client whose task stream is `events`, then VIEW; cancellations are recorded. */
function fakeApi(events: TaskEvent[]) {
  const cancelled: [string, string | undefined][] = []
  return {
    cancelled,
    async followTask(_hash: string, options: FollowTaskOptions = {}) {
      for (const event of events) await options.onEvent?.(event)
      return VIEW
    },
    async cancelTask(hash: string, reason?: string) {
      cancelled.push([hash, reason])
      return { action_hash: 'c', author: 'me', timestamp: 0 } as never
    },
  }
}

const waiting = (unclaimable: boolean): TaskEvent => ({
  type: 'waiting',
  reason: 'no node has the model',
  unclaimable,
})

describe('followToEnd', () => {
  it('sees every event and cancels nothing while peers may still claim', async () => {
    const api = fakeApi([waiting(false), { type: 'status', status: 'done', attempt: 1, assignee: 'p' }])
    const seen: string[] = []
    expect(await followToEnd(api, 't', { onEvent: (e) => void seen.push(e.type) })).toBe(VIEW)
    expect(seen).toEqual(['waiting', 'status'])
    expect(api.cancelled).toEqual([])
  })

  it("cancels with the scheduler's reason once no peer will claim, then follows to the end", async () => {
    const api = fakeApi([waiting(true)])
    const told: string[] = []
    expect(await followToEnd(api, 't', { onUnclaimable: (r) => void told.push(r) })).toBe(VIEW)
    expect(api.cancelled).toEqual([['t', 'nobody can serve it: no node has the model']])
    expect(told).toEqual(['no node has the model'])
  })

  it('ends with what onUnclaimable throws, after the cancellation', async () => {
    const api = fakeApi([waiting(true)])
    const follow = followToEnd(api, 't', {
      onUnclaimable: (r) => {
        throw new Error(`gave up: ${r}`)
      },
    })
    await expect(follow).rejects.toThrow('gave up: no node has the model')
    expect(api.cancelled).toHaveLength(1)
  })
})
