/**
 * A runner's speed as this requester measured it (moving averages of first-token time and decode
 * speed), the runner's advertised figures standing in until then, and again once the measures are old.
 */
import { describe, expect, it } from 'vitest'
import {
  EWMA_WEIGHT,
  OBSERVED_TTL_MS,
  type SpeedFigures,
  SpeedTable,
} from '../../../../host/requests/direct/runner-speed.ts'

type Step = { ttft: number; at: number } | { tokens: number; ms: number; at: number }

const advertised: SpeedFigures = { ttft_ms: 900, tokens_per_s: 12 }

describe('SpeedTable', () => {
  const cases: [string, Step[], SpeedFigures | null, number, SpeedFigures][] = [
    ['nothing known', [], null, 0, { ttft_ms: null, tokens_per_s: null }],
    ['the advertised figures stand in', [], advertised, 0, advertised],
    [
      'one first token measured, its decode still advertised',
      [{ ttft: 200, at: 0 }],
      advertised,
      1,
      { ttft_ms: 200, tokens_per_s: 12 },
    ],
    [
      'a moving average of first tokens',
      [
        { ttft: 200, at: 0 },
        { ttft: 400, at: 1 },
      ],
      null,
      2,
      { ttft_ms: 200 + EWMA_WEIGHT * 200, tokens_per_s: null },
    ],
    [
      'decode speed from tokens and time',
      [{ tokens: 100, ms: 2000, at: 0 }],
      null,
      1,
      { ttft_ms: null, tokens_per_s: 50 },
    ],
    [
      'a moving average of decode speeds',
      [
        { tokens: 100, ms: 1000, at: 0 },
        { tokens: 100, ms: 500, at: 0 },
      ],
      null,
      1,
      { ttft_ms: null, tokens_per_s: 100 + EWMA_WEIGHT * 100 },
    ],
    [
      'measures grown old give way to the advertised ones',
      [
        { ttft: 200, at: 0 },
        { tokens: 10, ms: 100, at: 0 },
      ],
      advertised,
      OBSERVED_TTL_MS,
      advertised,
    ],
    [
      'an old average is started over, not averaged with',
      [
        { ttft: 200, at: 0 },
        { ttft: 1000, at: OBSERVED_TTL_MS },
      ],
      null,
      OBSERVED_TTL_MS,
      { ttft_ms: 1000, tokens_per_s: null },
    ],
    [
      'nonsense is ignored',
      [
        { ttft: -5, at: 0 },
        { tokens: 0, ms: 10, at: 0 },
        { tokens: 5, ms: 0, at: 0 },
      ],
      null,
      0,
      { ttft_ms: null, tokens_per_s: null },
    ],
  ]
  it.each(cases)('%s', (_name, steps, seed, now, want) => {
    const table = new SpeedTable()
    for (const s of steps)
      if ('ttft' in s) table.firstToken('r', 'm', s.ttft, s.at)
      else table.decoded('r', 'm', s.tokens, s.ms, s.at)
    expect(table.figures('r', 'm', seed, now)).toEqual(want)
  })

  it('keeps each runner and model apart', () => {
    const table = new SpeedTable()
    table.firstToken('r', 'm', 100, 0)
    expect(table.figures('r', 'other', null, 0).ttft_ms).toBeNull()
    expect(table.figures('s', 'm', null, 0).ttft_ms).toBeNull()
  })
})
