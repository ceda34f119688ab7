/**
 * The fastest healthy runner first: within a tier of the route plan, faster runners first (runners
 * within SPEED_STEP of each other keep the plan's order), a conversation's home in its place, an
 * unmeasured runner as fast as the best, a runner whose breaker is open last.
 */
import { describe, expect, it } from 'vitest'
import type { RouteCandidate } from '../../../../host/requests/direct/route-plan.ts'
import type { SpeedFigures } from '../../../../host/requests/direct/runner-speed.ts'
import { rankBySpeed } from '../../../../host/requests/direct/speed-rank.ts'

const c = (agent: string, tier: RouteCandidate['tier'] = 0): RouteCandidate => ({
  agent,
  self: false,
  tier,
  free: tier === 0 ? 1 : 0,
})
const fast: SpeedFigures = { ttft_ms: 100, tokens_per_s: 100 }
const slow: SpeedFigures = { ttft_ms: 1000, tokens_per_s: 10 }
const alike: SpeedFigures = { ttft_ms: 120, tokens_per_s: 90 }
const unknown: SpeedFigures = { ttft_ms: null, tokens_per_s: null }

describe('rankBySpeed', () => {
  const cases: [
    string,
    RouteCandidate[],
    Record<string, SpeedFigures>,
    { home?: string; open?: string[] },
    string[],
  ][] = [
    ['nothing measured: the plan’s order', [c('a'), c('b')], {}, {}, ['a', 'b']],
    ['the 10x faster first', [c('slow'), c('fast')], { slow, fast }, {}, ['fast', 'slow']],
    [
      'runners alike keep the plan’s order (load spreads)',
      [c('b'), c('a')],
      { a: fast, b: alike },
      {},
      ['b', 'a'],
    ],
    [
      'the fast one busy: the slow one with a slot first',
      [c('slow'), c('fast', 1)],
      { slow, fast },
      {},
      ['slow', 'fast'],
    ],
    [
      'the fast one first among the busy too',
      [c('slow', 1), c('fast', 1)],
      { slow, fast },
      {},
      ['fast', 'slow'],
    ],
    [
      'an unmeasured runner ranks as fast as the best',
      [c('slow'), c('new'), c('fast')],
      { slow, fast },
      {},
      ['new', 'fast', 'slow'],
    ],
    [
      'a runner never measured is tried before one measured slow',
      [c('slow'), c('new')],
      { slow },
      {},
      ['new', 'slow'],
    ],
    [
      'a figure missing is taken as the best known (only its first token measured)',
      [c('slow'), c('half'), c('fast')],
      { slow, fast, half: { ttft_ms: 100, tokens_per_s: null } },
      {},
      ['half', 'fast', 'slow'],
    ],
    [
      'a slow first token alone ranks it after',
      [c('late'), c('fast')],
      { late: { ttft_ms: 5000, tokens_per_s: 100 }, fast },
      {},
      ['fast', 'late'],
    ],
    [
      'a conversation’s home keeps its place, slow or not',
      [c('slow'), c('fast')],
      { slow, fast },
      { home: 'slow' },
      ['slow', 'fast'],
    ],
    [
      'a busy home stays first among the busy',
      [c('fast'), c('other'), c('slow', 1), c('x', 1)],
      { slow, fast, other: slow, x: fast },
      { home: 'slow' },
      ['fast', 'other', 'slow', 'x'],
    ],
    [
      'an open breaker goes last',
      [c('fast'), c('slow')],
      { slow, fast },
      { open: ['fast'] },
      ['slow', 'fast'],
    ],
    [
      'an open breaker passes a home over too',
      [c('fast'), c('slow')],
      { slow, fast },
      { home: 'fast', open: ['fast'] },
      ['slow', 'fast'],
    ],
    [
      'tiers come first: a fast runner without the model loaded after a slow one with it',
      [c('fast', 2), c('slow')],
      { slow, fast },
      {},
      ['slow', 'fast'],
    ],
  ]
  it.each(cases)('%s', (_name, candidates, figures, opts, want) => {
    const ranked = rankBySpeed({
      candidates,
      figures: (agent) => figures[agent] ?? unknown,
      passable: (agent) => !opts.open?.includes(agent),
      home: opts.home ?? null,
    })
    expect(ranked.map((r) => r.agent)).toEqual(want)
  })
})
