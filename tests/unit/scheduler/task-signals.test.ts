/**
 * A worker's events as the round's task signals carry them: in the `{ type, data }` form release 0.1.0
 * reads (and `/api/tasks/:hash/events` shows), read back as the events they were.
 */
import { describe, expect, it } from 'vitest'
import type { WorkerEvent } from '../../../host/interface/run-event.ts'
import { signalProgress, workerEventOf } from '../../../host/scheduler/task-signals.ts'
import { EVERY_KIND } from '../interface/every-run-event.ts'

const WORKER_EVENTS: WorkerEvent[] = [
  EVERY_KIND.load,
  EVERY_KIND.reasoning,
  EVERY_KIND.token,
  EVERY_KIND['tool-call'],
]

describe('task signals', () => {
  it("carry a worker's events in release 0.1.0's form", () => {
    expect(WORKER_EVENTS.map(signalProgress)).toEqual([
      { type: 'load', data: { model: 'tiny', progress: EVERY_KIND.load.progress } },
      { type: 'reasoning', data: 'hm' },
      { type: 'token', data: 'Oslo' },
      // 0.1.0 passes over a kind it does not know.
      { type: 'tool-call', data: { index: 0, name: 'weather', arguments: '{"city":' } },
    ])
  })

  it('are read back as the events they were', () => {
    for (const event of WORKER_EVENTS) expect(workerEventOf(signalProgress(event))).toEqual(event)
  })

  it('pass over a kind or a shape this release does not know', () => {
    expect(workerEventOf({ type: 'percent', data: 5 })).toBeNull()
    expect(workerEventOf({ type: 'token', data: 5 })).toBeNull()
    expect(workerEventOf({ type: 'load', data: 'tiny' })).toBeNull()
    expect(workerEventOf({ type: 'tool-call', data: { index: 0, name: '', arguments: '' } })).toBeNull()
  })
})
