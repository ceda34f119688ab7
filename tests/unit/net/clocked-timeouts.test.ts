import { describe, expect, it } from 'vitest'
import { clockedTimeouts } from '../../../host/net/clocked-timeouts.ts'
import { HANDSHAKE_TIMEOUT_MS } from '../../../host/net/peer-book.ts'
import { REQUEST_TIMEOUT_MS } from '../../../host/net/request-response.ts'

describe('clockedTimeouts', () => {
  it.each([
    // speedup, what a timeout is multiplied by, the pings' interval
    [1, 1, 20_000],
    [0.04, 25, 500_000],
    [0.5, 2, 40_000],
    [10, 1, 2_000],
  ])('at a %sx clock: timeouts x%s, pings every %s ms', (speedup, stretch, pingMs) => {
    const t = clockedTimeouts(speedup)
    expect(t.connectionManager.dialTimeout).toBeCloseTo(10_000 * stretch)
    expect(t.connectionManager.addressDialTimeout).toBeCloseTo(6_000 * stretch)
    expect(t.connectionManager.inboundUpgradeTimeout).toBeCloseTo(10_000 * stretch)
    expect(t.connectionManager.outboundStreamProtocolNegotiationTimeout).toBeCloseTo(10_000 * stretch)
    expect(t.connectionManager.inboundStreamProtocolNegotiationTimeout).toBeCloseTo(10_000 * stretch)
    expect(t.handshakeMs).toBeCloseTo(HANDSHAKE_TIMEOUT_MS * stretch)
    expect(t.requestMs).toBeCloseTo(REQUEST_TIMEOUT_MS * stretch)
    expect(t.connectionMonitor.pingInterval).toBeCloseTo(pingMs)
    expect(t.connectionMonitor.pingTimeout.maxTimeout).toBeLessThan(t.connectionMonitor.pingInterval)
  })
})
