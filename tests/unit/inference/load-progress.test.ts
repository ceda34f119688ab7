import { describe, expect, it } from 'vitest'
import { loadPercent, residentBytes } from '../../../host/inference/engine/load-progress.ts'

describe('load progress', () => {
  it.each([
    [0, 1000, 0],
    [250, 1000, 25],
    [999, 1000, 99],
    // Resident memory past the model's bytes (the process's own code, the KV cache): still not ready.
    [1000, 1000, 99],
    [5000, 1000, 99],
    // Nothing to count against: no progress rather than a guess.
    [500, 0, 0],
    [500, Number.NaN, 0],
    [Number.NaN, 1000, 0],
  ])('%d resident of %d bytes is %d%%', (resident, expected, percent) => {
    expect(loadPercent(resident, expected)).toBe(percent)
  })

  it('reads a live process’s resident memory, and null for one that is gone', async () => {
    const own = await residentBytes(process.pid)
    expect(own).toBeGreaterThan(process.memoryUsage().heapUsed / 4)
    expect(own).toBeLessThan(process.memoryUsage().rss * 4)
    expect(await residentBytes(2 ** 22 + 12345)).toBeNull()
  })
})
