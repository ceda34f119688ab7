import { peerIdFromString } from '@libp2p/peer-id'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { PeerActivity, type Use } from '../../../host/net/peer-activity.ts'

const peer = peerIdFromString('12D3KooWGRUVh5ZMmF1vVoG6KHZcw8WBAyWnzFKQwwwZ2p4bLkdo')

describe('peer activity', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(1_000)
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  /** Runs `uses` in turn, each 10 ms after the last ended and taking 5 ms: what is known midway through the last, and after. */
  const run = (uses: Use[]) => {
    const activity = new PeerActivity()
    let during: number | undefined
    for (const use of uses) {
      vi.advanceTimersByTime(10)
      const done = activity.begin(peer, use)
      vi.advanceTimersByTime(5)
      during = activity.lastActiveAt(peer)
      done()
    }
    vi.advanceTimersByTime(100)
    return { during, after: activity.lastActiveAt(peer), asked: activity.asked(peer) }
  }

  it.each<[string, Use[], number | undefined, number | undefined, boolean]>([
    ['a request: now while it runs, then when it ended, asked', ['request'], 1_015, 1_015, true],
    ['a brief use: the same, not asked', ['brief'], 1_015, 1_015, false],
    ['upkeep alone: now while it runs, then never used', ['upkeep'], 1_015, undefined, false],
    ['upkeep after a request: the request still the last', ['request', 'upkeep'], 1_030, 1_015, true],
    ['upkeep after a brief use: the brief use the last', ['brief', 'upkeep'], 1_030, 1_015, false],
    ['a brief use after a request: the last use, still asked', ['request', 'brief'], 1_030, 1_030, true],
    ['a request after upkeep: the request', ['upkeep', 'request'], 1_030, 1_030, true],
  ])('%s', (_name, uses, during, after, asked) => {
    expect(run(uses)).toEqual({ during, after, asked })
  })

  it('holds a peer while upkeep overlaps a use that ended, and forgets it at its disconnect', () => {
    const activity = new PeerActivity()
    const upkeep = activity.begin(peer, 'upkeep')
    activity.begin(peer)()
    vi.advanceTimersByTime(50)
    expect(activity.lastActiveAt(peer)).toBe(1_050)
    upkeep()
    expect(activity.lastActiveAt(peer)).toBe(1_000)
    activity.forget(peer)
    expect([activity.lastActiveAt(peer), activity.asked(peer)]).toEqual([undefined, false])
  })
})
