import { describe, expect, it } from 'vitest'
import { DEFAULT_CONCURRENT, KeyLimiter, type KeyLimits, limitsText } from '../../../host/usage/key-limits.ts'

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
      if (step.expect === true) expect(got, `at +${step.at - T0} ms`).toMatchObject({ ok: true })
      else expect(got, `at +${step.at - T0} ms`).toMatchObject({ ok: false, ...step.expect })
      if (got.ok) limiter.settle('k', got.ticket, step.tokens ?? 0, step.at)
    }
  })

  // T0 is 08:00 UTC: an hour's tokens given back count as at 08:59, or now in the current hour.
  const HOUR = 60 * MIN
  const restored: [string, number, number, number, true | { limit: string; retryAfterS: number }][] = [
    [
      'a past hour: refused until its last minute leaves the day',
      T0,
      1000,
      T0 + 2 * HOUR,
      {
        limit: 'tokens_per_day',
        retryAfterS: 23 * 3600,
      },
    ],
    ['a past hour, under the limit', T0, 999, T0 + 2 * HOUR, true],
    [
      'the current hour: as if now',
      T0,
      1000,
      T0 + 10 * MIN,
      { limit: 'tokens_per_day', retryAfterS: 24 * 3600 + 60 },
    ],
    ['an hour that has left the day', T0, 1000, T0 + DAY + HOUR, true],
  ]
  it.each(restored)('a restart gives back the day from hourly rows: %s', (_, hour, tokens, now, expected) => {
    const limiter = new KeyLimiter()
    limiter.restore('k', hour, tokens, now)
    // The minute's limits start afresh.
    expect(limiter.admit('k', { tpm: 1 }, now).ok).toBe(true)
    const got = limiter.admit('k', { tokens_per_day: 1000 }, now)
    if (expected === true) expect(got).toMatchObject({ ok: true })
    else expect(got).toMatchObject({ ok: false, ...expected })
  })

  it('keys are counted apart', () => {
    const limiter = new KeyLimiter()
    expect(limiter.admit('a', { rpm: 1 }, T0).ok).toBe(true)
    expect(limiter.admit('a', { rpm: 1 }, T0).ok).toBe(false)
    expect(limiter.admit('b', { rpm: 1 }, T0).ok).toBe(true)
  })

  it('says its limits', () => {
    expect(limitsText({ rpm: 5, tokens_per_day: 2_000_000 })).toBe('5 rpm, 2000000/day')
    expect(limitsText({ concurrent: 2 })).toBe('2 at once')
    expect(limitsText(undefined)).toBe('-')
  })

  it('tokens reserved on admission count until settled: concurrent requests cannot pass the limit', () => {
    const limiter = new KeyLimiter()
    const first = limiter.admit('k', { tpm: 1000 }, T0, 600)
    const second = limiter.admit('k', { tpm: 1000 }, T0, 600)
    expect(first.ok && second.ok).toBe(true)
    // 1200 held by requests not yet answered: the third is refused though nothing was answered.
    expect(limiter.admit('k', { tpm: 1000 }, T0, 600)).toMatchObject({
      ok: false,
      limit: 'tpm',
      message: expect.stringMatching(/\(1200 used, 1200 of them held by requests not yet answered\)/),
    })
    // Settled with what they really took (10 each): the room comes back.
    if (first.ok) limiter.settle('k', first.ticket, 10, T0 + 1)
    if (second.ok) limiter.settle('k', second.ticket, 10, T0 + 1)
    expect(limiter.admit('k', { tpm: 1000 }, T0 + 2, 600).ok).toBe(true)
  })

  it('a settle counts once; an unknown ticket counts nothing', () => {
    const limiter = new KeyLimiter()
    const got = limiter.admit('k', { tpm: 100 }, T0, 50)
    if (!got.ok) throw new Error('refused')
    limiter.settle('k', got.ticket, 60, T0)
    limiter.settle('k', got.ticket, 60, T0)
    limiter.settle('k', 12345, 60, T0)
    expect(limiter.admit('k', { tpm: 100 }, T0).ok).toBe(true)
  })

  it.each([
    ['the key’s own cap', { concurrent: 2 }, 2],
    ['a sane default when the key sets none', {}, DEFAULT_CONCURRENT],
  ])('requests at once are bounded: %s', (_, limits: KeyLimits, cap) => {
    const limiter = new KeyLimiter()
    const tickets = Array.from({ length: cap }, () => limiter.admit('k', limits, T0))
    expect(tickets.every((t) => t.ok)).toBe(true)
    expect(limiter.admit('k', limits, T0)).toMatchObject({ ok: false, limit: 'concurrent', retryAfterS: 1 })
    const [one] = tickets
    if (one?.ok) limiter.settle('k', one.ticket, 0, T0)
    expect(limiter.admit('k', limits, T0).ok).toBe(true)
  })
})
