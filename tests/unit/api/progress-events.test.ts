/** Progress on the wire: the routes' events keep their shapes, and the client reads a Progress back. */
import { describe, expect, it } from 'vitest'
import { routes } from '../../../host/api/contract/index.ts'
import {
  loadProgressEvent,
  progressOfLoad,
  progressOfPull,
  pullProgressEvent,
} from '../../../host/api/progress-events.ts'
import { type Progress, progressFraction } from '../../../host/interface/progress.ts'

const loading = (done: number): Progress => ({ stage: 'load', done, total: 100, unit: 'percent' })
const downloading = (done: number, total: number | null): Progress => ({
  stage: 'download',
  done,
  total,
  unit: 'bytes',
})

describe('progressFraction', () => {
  it('is done over total, at most 1; 0 of an empty total; null while the total is not known', () => {
    expect(progressFraction(loading(37))).toBe(0.37)
    expect(progressFraction(downloading(150, 100))).toBe(1)
    expect(progressFraction(downloading(0, 0))).toBe(0)
    expect(progressFraction(downloading(10, null))).toBeNull()
  })
})

describe('progress events', () => {
  it('sends a load as its fraction, and reads every whole percent back as it was', () => {
    for (let done = 0; done <= 100; done++) {
      const event = loadProgressEvent(loading(done))
      expect(routes.loadModel.events.progress.parse(event)).toEqual({ fraction: done / 100 })
      expect(progressOfLoad(event)).toEqual(loading(done))
    }
  })

  it('sends a download as bytes of the total (0: not announced), and reads it back', () => {
    const known = pullProgressEvent(downloading(5, 20))
    expect(routes.pullModel.events.progress.parse(known)).toEqual({ downloaded_bytes: 5, total_bytes: 20 })
    expect(progressOfPull(known)).toEqual(downloading(5, 20))
    const unknown = pullProgressEvent(downloading(5, null))
    expect(unknown).toEqual({ downloaded_bytes: 5, total_bytes: 0 })
    expect(progressOfPull(unknown)).toEqual(downloading(5, null))
  })
})
