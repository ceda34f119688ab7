/** How far a Progress is, the one reading every display of it shares. */
import { describe, expect, it } from 'vitest'
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
