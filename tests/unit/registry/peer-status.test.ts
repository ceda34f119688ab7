import { describe, expect, it } from 'vitest'
import { peerStatus } from '../../../host/registry/peer-status.ts'

const config = { interval_ms: 2000, stale_after_missed: 3, offline_after_ms: 30_000 }
const NOW = 1_000_000

describe('peerStatus', () => {
  it('is online while heartbeats arrive', () => {
    expect(peerStatus(NOW, NOW, config)).toBe('online')
    expect(peerStatus(NOW - 2000, NOW, config)).toBe('online')
  })

  it('is online up to and including stale_after_missed intervals of silence', () => {
    expect(peerStatus(NOW - 6000, NOW, config)).toBe('online')
  })

  it('is stale after stale_after_missed missed intervals', () => {
    expect(peerStatus(NOW - 6001, NOW, config)).toBe('stale')
    expect(peerStatus(NOW - 29_999, NOW, config)).toBe('stale')
  })

  it('is offline after offline_after_ms', () => {
    expect(peerStatus(NOW - 30_000, NOW, config)).toBe('offline')
    expect(peerStatus(NOW - 3_600_000, NOW, config)).toBe('offline')
  })

  it("stretches both by the pace a peer's heartbeat said it keeps (a big mesh's idle pace)", () => {
    // Beating every 6 s: stale after 3 x 6 s, offline after 30 s x 3.
    expect(peerStatus(NOW - 18_000, NOW, config, 6000)).toBe('online')
    expect(peerStatus(NOW - 18_001, NOW, config, 6000)).toBe('stale')
    expect(peerStatus(NOW - 89_999, NOW, config, 6000)).toBe('stale')
    expect(peerStatus(NOW - 90_000, NOW, config, 6000)).toBe('offline')
    // A pace under the network's interval stretches nothing.
    expect(peerStatus(NOW - 6001, NOW, config, 500)).toBe('stale')
  })

  it('is offline when no heartbeat was ever heard', () => {
    expect(peerStatus(null, NOW, config)).toBe('offline')
  })

  it('goes offline before stale when the timeout is shorter than the stale window', () => {
    const short = { interval_ms: 2000, stale_after_missed: 10, offline_after_ms: 5000 }
    expect(peerStatus(NOW - 5000, NOW, short)).toBe('offline')
    expect(peerStatus(NOW - 4000, NOW, short)).toBe('online')
  })

  it('follows the configured timing', () => {
    const fast = { interval_ms: 100, stale_after_missed: 1, offline_after_ms: 1000 }
    expect(peerStatus(NOW - 100, NOW, fast)).toBe('online')
    expect(peerStatus(NOW - 101, NOW, fast)).toBe('stale')
  })
})
