/**
 * The timeouts of a node (and its connection monitor's pace) on the simulation's clock
 * (createRippleNode's `speedup`). A slowed clock (many simulated peers sharing one machine) stretches
 * every interval, and a timeout left in real time shrinks in simulated time with it: at 1,000 peers on a 0.04x clock, libp2p's 10 s dial would
 * be 0.4 simulated seconds. Under load such a dial, an upgrade or a hello then fails where the
 * daemon's would not, the push or request behind it is retried, and the retries load the machine
 * further. On the daemon's own clock (1) every figure is libp2p's default or Ripple's; the pings' pace
 * follows the clock both ways, as the node's other periodic timers do.
 */
import { HANDSHAKE_TIMEOUT_MS } from './peer-book.ts'
import { REQUEST_TIMEOUT_MS } from './request-response.ts'

/** libp2p's connection manager defaults (libp2p 3: `connection-manager/constants.defaults.js`). */
const DIAL_TIMEOUT_MS = 10_000
const ADDRESS_DIAL_TIMEOUT_MS = 6_000
const INBOUND_UPGRADE_TIMEOUT_MS = 10_000
const PROTOCOL_NEGOTIATION_TIMEOUT_MS = 10_000

export function clockedTimeouts(speedup: number) {
  // Stretched on a slowed clock only: a faster one (tests) leaves a dial the real time its work takes.
  const stretch = Math.max(1, 1 / speedup)
  return {
    // A peer busy for a few seconds (a burst of tasks, a model loading) answers pings late. With
    // libp2p's defaults (every 10 s, timeout from 5 s) a late ping, or the next one sent while it is
    // still open, aborts the connection, and the gossip on it is lost until anti-entropy refetches
    // it. A dead connection is still found within ~40 s, and a closed one at once.
    connectionMonitor: {
      pingInterval: 20_000 / speedup,
      pingTimeout: { minTimeout: 15_000 / speedup, maxTimeout: 19_000 / speedup },
    },
    connectionManager: {
      dialTimeout: DIAL_TIMEOUT_MS * stretch,
      addressDialTimeout: ADDRESS_DIAL_TIMEOUT_MS * stretch,
      inboundUpgradeTimeout: INBOUND_UPGRADE_TIMEOUT_MS * stretch,
      inboundStreamProtocolNegotiationTimeout: PROTOCOL_NEGOTIATION_TIMEOUT_MS * stretch,
      outboundStreamProtocolNegotiationTimeout: PROTOCOL_NEGOTIATION_TIMEOUT_MS * stretch,
    },
    handshakeMs: HANDSHAKE_TIMEOUT_MS * stretch,
    requestMs: REQUEST_TIMEOUT_MS * stretch,
  }
}
