/**
 * keepAliveText: a loaded model's keep-alive as a person reads it, with the caller's own way of
 * writing a duration.
 */
import { describe, expect, it } from 'vitest'
import { type KeepAliveState, keepAliveText } from '../../../host/interface/keep-alive-text.ts'

const seconds = (ms: number) => `${ms / 1000}s`
const NOW = 100_000

describe('keepAliveText', () => {
  it.each<[string, KeepAliveState, string]>([
    ['busy while a request runs', { idle_since: null, unloads_at: null }, 'busy'],
    ['busy even with an unload time left over', { idle_since: null, unloads_at: 200_000 }, 'busy'],
    ['idle and kept loaded', { idle_since: 40_000, unloads_at: null }, 'idle 60s, kept loaded'],
    ['idle with its unload ahead', { idle_since: 70_000, unloads_at: 130_000 }, 'idle 30s, unloads in 30s'],
    ['idle just now', { idle_since: NOW, unloads_at: NOW + 5_000 }, 'idle 0s, unloads in 5s'],
    ['an unload already due as in 0', { idle_since: 10_000, unloads_at: 90_000 }, 'idle 90s, unloads in 0s'],
  ])('%s', (_, state, text) => {
    expect(keepAliveText(state, seconds, NOW)).toBe(text)
  })

  it("writes durations the caller's way", () => {
    const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`
    expect(keepAliveText({ idle_since: 0, unloads_at: 300_000 }, minutes, 120_000)).toBe(
      'idle 2 min, unloads in 3 min',
    )
  })

  it('reads the clock when no time is given', () => {
    const now = Date.now()
    const text = keepAliveText({ idle_since: now - 1_000_000, unloads_at: null }, (ms) =>
      ms >= 1_000_000 ? 'long' : 'short',
    )
    expect(text).toBe('idle long, kept loaded')
  })
})
