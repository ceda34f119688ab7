/** What a park costs on an engine (issue 58, point 2): a running estimate from the parks measured. */
import { describe, expect, it } from 'vitest'
import { DEFAULT_PARK_MS, ParkCost } from '../../../host/inference/engine/park-cost.ts'

describe('ParkCost', () => {
  it.each([
    ['the default before any park', [], DEFAULT_PARK_MS],
    ['the first park as measured', [10], 10],
    ['then a fifth of each difference', [10, 60], 20],
    ['a reading that is no time is left out', [10, Number.NaN, -5, Number.POSITIVE_INFINITY], 10],
  ])('%s', (_, parks, ms) => {
    const cost = new ParkCost()
    for (const p of parks) cost.note(p)
    expect(cost.ms).toBeCloseTo(ms)
  })
})
