/** formatDuration: a duration to the second, as the CLI and the dashboard write it. */
import { describe, expect, it } from 'vitest'
import { formatDuration } from '../../../host/text/duration-text.ts'

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [999, '0s'],
    [59_999, '59s'],
    [60_000, '1m'],
    [61_000, '1m 1s'],
    [1_800_000, '30m'],
    [125_000, '2m 5s'],
    [3_599_000, '59m 59s'],
    [3_600_000, '1h'],
    [86_400_000, '24h'],
    [90_061_000, '25h 1m'],
  ])('writes %i ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })
})
