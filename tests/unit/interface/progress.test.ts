/** How far a Progress is, the one reading every display of it shares. */
import { describe, expect, it } from 'vitest'
import { progressFraction } from '../../../host/interface/progress.ts'

describe('progressFraction', () => {
  it('is done over total, at most 1; 0 of an empty total; null while the total is not known', () => {
    const cases = [
      [37, 100, 0.37],
      [150, 100, 1],
      [0, 0, 0],
      [10, null, null],
    ] as const
    for (const [done, total, fraction] of cases)
      expect(progressFraction({ stage: 'download', done, total, unit: 'bytes' })).toBe(fraction)
  })
})
