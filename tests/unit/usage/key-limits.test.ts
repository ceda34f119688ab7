import { describe, expect, it } from 'vitest'
import { KeyLimiter, type KeyLimits, limitsText } from '../../../host/usage/key-limits.ts'

const T0 = 1_800_000_000_000
const MIN = 60_000
const DAY = 24 * 60 * MIN

/** Steps on one key: `admit` at a time (with tokens counted once answered), what each step got. */
type Step = { at: number; tokens?: number; expect: true | { limit: string; retryAfterS: number } }

const cases: { name: string; limits: KeyLimits; steps: Step[] }[] = [
  {
    name: 'rpm: the limit-th request in a minute passes, the next waits for the oldest to leave',
    limits: { rpm: 2 },
    steps: [
      { at: T0, expect: true },
      { at: T0 + 10_000, expect: true },
      { at: T0 + 20_000, expect: { limit: 'rpm', retryAfterS: 40 } },
      { at: T0 + MIN - 1, expect: { limit: 'rpm', retryAfterS: 1 } },
      { at: T0 + MIN, expect: true },
    ],
  },
  {
    name: 'tpm: admitted while under; refused at the limit until enough tokens leave the minute',
    limits: { tpm: 100 },
    steps: [
      { at: T0, tokens: 60, expect: true },
      { at: T0 + 1000, tokens: 39, expect: true },
      // 99 used: one token short of the limit, still admitted (its own tokens are not known yet).
      { at: T0 + 2000, tokens: 1, expect: true },
      { at: T0 + 3000, expect: { limit: 'tpm', retryAfterS: 57 } },
      { at: T0 + MIN, expect: true },
    ],
  },
  {
    name: 'tokens per day: a sliding 24 hours of per-minute counts',
    limits: { tokens_per_day: 1000, rpm: 100 },
    steps: [
      { at: T0, tokens: 999, expect: true },
      { at: T0 + 12 * 60 * MIN, expect: true },
      { at: T0 + 12 * 60 * MIN + 1, tokens: 1, expect: true },
      { at: T0 + 13 * 60 * MIN, expect: { limit: 'tokens_per_day', retryAfterS: 11 * 3600 + 60 } },
      { at: T0 + DAY + MIN, expect: true },
    ],
  },
  {
    name: 'no limits: always admitted',
    limits: {},
    steps: Array.from({ length: 50 }, (_, i) => ({ at: T0 + i, tokens: 1e6, expect: true as const })),
  },
]

describe('limits per API key', () => {
  it.each(cases)('$name', ({ limits, steps }) => {
    const limiter = new KeyLimiter()
    for (const step of steps) {
      const got = limiter.admit('k', limits, step.at)
      if (step.expect === true) expect(got, `at +${step.at - T0} ms`).toEqual({ ok: true })
      else expect(got, `at +${step.at - T0} ms`).toMatchObject({ ok: false, ...step.expect })
      if (got.ok && step.tokens) limiter.count('k', step.tokens, step.at)
    }
  })

  it('keys are counted apart', () => {
    const limiter = new KeyLimiter()
    expect(limiter.admit('a', { rpm: 1 }, T0).ok).toBe(true)
    expect(limiter.admit('a', { rpm: 1 }, T0).ok).toBe(false)
    expect(limiter.admit('b', { rpm: 1 }, T0).ok).toBe(true)
  })

  it('says its limits', () => {
    expect(limitsText({ rpm: 5, tokens_per_day: 2_000_000 })).toBe('5 rpm, 2000000/day')
    expect(limitsText(undefined)).toBe('-')
  })
})
