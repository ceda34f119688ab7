/**
 * A runner that failed is passed over for a cool-down that doubles on each failed probe, up to a cap,
 * then probed once (half-open); a success closes it.
 */
import { describe, expect, it } from 'vitest'
import {
  type BreakerEvent,
  type BreakerState,
  CircuitBreakers,
  CLOSED,
  FIRST_COOL_DOWN_MS,
  MAX_COOL_DOWN_MS,
  nextBreaker,
  passable,
} from '../../../../host/requests/direct/circuit-breaker.ts'

const open = (until: number, cool: number): BreakerState => ({ state: 'open', until, cool })
const half = (cool: number, probing: boolean): BreakerState => ({ state: 'half-open', cool, probing })
const sent: BreakerEvent = { type: 'sent' }
const ok: BreakerEvent = { type: 'succeeded' }
const failed: BreakerEvent = { type: 'failed' }

describe('nextBreaker', () => {
  const cases: [string, BreakerState, BreakerEvent, number, BreakerState][] = [
    ['a request sent while closed changes nothing', CLOSED, sent, 0, CLOSED],
    ['a success while closed stays closed', CLOSED, ok, 0, CLOSED],
    [
      'a failure while closed opens it for the first cool-down',
      CLOSED,
      failed,
      100,
      open(100 + FIRST_COOL_DOWN_MS, FIRST_COOL_DOWN_MS),
    ],
    [
      'a failure while open (sent before it opened) keeps its cool-down',
      open(5000, 5000),
      failed,
      200,
      open(5000, 5000),
    ],
    ['open, its cool-down over, a request sent is the probe', open(5000, 5000), sent, 5000, half(5000, true)],
    ['a failed probe opens it for twice as long', half(5000, true), failed, 9000, open(19_000, 10_000)],
    [
      'the cool-down stops doubling at the cap',
      half(MAX_COOL_DOWN_MS * 0.75, true),
      failed,
      0,
      open(MAX_COOL_DOWN_MS, MAX_COOL_DOWN_MS),
    ],
    ['a probe that succeeds closes it', half(40_000, true), ok, 1, CLOSED],
    ['a success of a request sent before it opened closes it', open(5000, 5000), ok, 10, CLOSED],
  ]
  it.each(cases)('%s', (_name, state, event, now, want) => {
    expect(nextBreaker(state, event, now)).toEqual(want)
  })
})

describe('passable', () => {
  const cases: [string, BreakerState, number, boolean][] = [
    ['closed', CLOSED, 0, true],
    ['open, in its cool-down', open(5000, 5000), 4999, false],
    ['open, its cool-down over (half-open)', open(5000, 5000), 5000, true],
    ['half-open, no probe running', half(5000, false), 0, true],
    ['half-open, its probe running', half(5000, true), 0, false],
  ]
  it.each(cases)('%s: %s', (_name, state, now, want) => {
    expect(passable(state, now)).toBe(want)
  })
})

describe('CircuitBreakers', () => {
  it('passes a failed runner over, lets one probe through after the cool-down, and closes on its success', () => {
    const b = new CircuitBreakers()
    b.on('slow', { type: 'sent' }, 0)
    b.on('slow', { type: 'failed' }, 10)
    expect(b.passable('slow', 10 + FIRST_COOL_DOWN_MS - 1)).toBe(false)
    expect(b.passable('other', 20)).toBe(true)
    const later = 10 + FIRST_COOL_DOWN_MS
    expect(b.state('slow', later).state).toBe('half-open')
    b.on('slow', { type: 'sent' }, later)
    expect(b.passable('slow', later)).toBe(false)
    b.on('slow', { type: 'succeeded' }, later + 5)
    expect(b.state('slow', later + 5)).toEqual(CLOSED)
  })
})
