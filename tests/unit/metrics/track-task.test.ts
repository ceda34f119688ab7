/**
 * trackTask: follows one task through the scheduler's watch and hands its final state to the metrics
 * once, when a terminal status arrives, then stops watching.
 */
import { describe, expect, it, vi } from 'vitest'
import { DaemonMetrics } from '../../../host/metrics/daemon-metrics.ts'
import { trackTask } from '../../../host/metrics/track-task.ts'
import type { TaskView } from '../../../host/scheduler/scheduler-service.ts'
import type { TaskEvent } from '../../../host/scheduler/task-watch.ts'
import type { TaskState } from '../../../zomes-bindings/index.ts'

const STATE = { status: 'done' } as TaskState

function setup(view: () => Promise<TaskView> = async () => ({ state: STATE }) as TaskView) {
  let listener: ((event: TaskEvent) => void) | undefined
  const unwatch = vi.fn()
  const scheduler = {
    watch: vi.fn((_hash: string, l: (event: TaskEvent) => void) => {
      listener = l
      return unwatch
    }),
    view: vi.fn(view),
  }
  const metrics = new DaemonMetrics({
    peers: async () => ({ peers: [], warrants: [] }),
    tasks: async () => [],
    replication: () => null,
  })
  const taskEnded = vi.spyOn(metrics, 'taskEnded').mockImplementation(() => {})
  const onError = vi.fn()
  trackTask(scheduler, metrics, 'uhCkTask', onError)
  const emit = (event: TaskEvent) => listener?.(event)
  const status = (s: TaskState['status']): TaskEvent => ({
    type: 'status',
    status: s,
    attempt: null,
    assignee: null,
  })
  return { scheduler, unwatch, taskEnded, onError, emit, status }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('trackTask', () => {
  it('watches the task it is given', () => {
    const { scheduler } = setup()
    expect(scheduler.watch).toHaveBeenCalledWith('uhCkTask', expect.any(Function))
  })

  it('ignores statuses that are not terminal and events that are not statuses', async () => {
    const { emit, status, taskEnded, scheduler, unwatch } = setup()
    emit(status('submitted'))
    emit(status('assigned'))
    emit({ type: 'waiting', reason: 'no peer', unclaimable: false })
    await settle()
    expect(scheduler.view).not.toHaveBeenCalled()
    expect(taskEnded).not.toHaveBeenCalled()
    expect(unwatch).not.toHaveBeenCalled()
  })

  it('gives the final state to the metrics once, then stops watching', async () => {
    const { emit, status, taskEnded, scheduler, unwatch } = setup()
    emit(status('done'))
    emit(status('done'))
    emit(status('failed'))
    await settle()
    expect(scheduler.view).toHaveBeenCalledTimes(1)
    expect(scheduler.view).toHaveBeenCalledWith('uhCkTask')
    expect(taskEnded).toHaveBeenCalledTimes(1)
    expect(taskEnded).toHaveBeenCalledWith(STATE, expect.any(Number))
    expect(unwatch).toHaveBeenCalledTimes(1)
  })

  it('passes the time the status arrived, not the time the view came back', async () => {
    let answer: (view: TaskView) => void = () => {}
    const { emit, status, taskEnded } = setup(() => new Promise((resolve) => (answer = resolve)))
    const before = Date.now()
    emit(status('cancelled'))
    const after = Date.now()
    await new Promise((resolve) => setTimeout(resolve, 20))
    answer({ state: STATE } as TaskView)
    await settle()
    const endedAt = taskEnded.mock.calls[0]?.[1] ?? 0
    expect(endedAt).toBeGreaterThanOrEqual(before)
    expect(endedAt).toBeLessThanOrEqual(after)
  })

  it('hands a failed view to onError', async () => {
    const failure = new Error('gone')
    const { emit, status, taskEnded, onError } = setup(async () => {
      throw failure
    })
    emit(status('expired'))
    await settle()
    expect(taskEnded).not.toHaveBeenCalled()
    expect(onError).toHaveBeenCalledWith(failure)
  })
})
