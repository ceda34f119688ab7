/**
 * Simulated peers over TCP all dial from 127.0.0.1, where on a real mesh each has a host of its own:
 * libp2p's per-host inbound limits (5 new connections a second, 10 upgrading at once) would refuse
 * dials a real peer accepts. Lifted as the in-memory mesh has them (create-node.ts gives it the
 * connection budget's pending inbound and no per-host limit, memory addresses having no host); the
 * connection cap and its pruning stay. libp2p has no option for it that keeps the cap (its `allow`
 * list, `loopbackTuning`, exempts loopback from the cap and from pruning too).
 */
import type { NetworkConfig } from '../../host/config/network-schema.ts'
import { connectionBudget, DEFAULT_MAX_CONNECTIONS } from '../../host/net/connection-budget.ts'
import type { RippleNode } from '../../host/net/create-node.ts'

interface InboundLimits {
  maxIncomingPendingConnections: number
  inboundConnectionRateLimiter: { consume: (host: string, points: number) => unknown }
}

export function liftPerHostLimits(node: RippleNode, network: NetworkConfig): void {
  const pending = connectionBudget(network.libp2p?.max_connections ?? DEFAULT_MAX_CONNECTIONS).max
  const manager = (node.libp2p as unknown as { components: { connectionManager: InboundLimits } }).components
    .connectionManager
  // A libp2p that renamed them would otherwise run the simulation with the limits on, silently.
  if (!('inboundConnectionRateLimiter' in manager) || !('maxIncomingPendingConnections' in manager))
    throw new Error("mesh-sim: libp2p's connection manager no longer has the per-host limits lifted here")
  manager.maxIncomingPendingConnections = pending
  manager.inboundConnectionRateLimiter = { consume: () => undefined }
}
