/**
 * How this node is connected to each peer: directly, or relayed through which relay (a relayed
 * address reads `<relay addr>/p2p/<relay id>/p2p-circuit/p2p/<peer>`). A peer with both is direct:
 * libp2p prefers a direct connection for new streams.
 */
import type { Connection } from '@libp2p/interface'
import { CODE_P2P, CODE_P2P_CIRCUIT } from '@multiformats/multiaddr'
import type { PeerLink } from '../interface/peer-link.ts'

type LinkedConnection = Pick<Connection, 'remoteAddr' | 'timeline' | 'direct'>

/**
 * The link of one connection. A WebRTC connection signalled through a relay has the relayed address
 * (`.../p2p-circuit/webrtc/...`) but carries its data directly: libp2p's `direct` says which.
 */
export function linkOfConnection(connection: LinkedConnection): PeerLink {
  const components = connection.remoteAddr.getComponents()
  const circuit = components.findIndex((c) => c.code === CODE_P2P_CIRCUIT)
  const relayed = circuit !== -1 && !connection.direct
  const before = components[circuit - 1]
  return {
    path: relayed ? 'relayed' : 'direct',
    via: relayed && before?.code === CODE_P2P ? before.value! : null,
    remote_addr: connection.remoteAddr.toString(),
    opened_at: connection.timeline.open,
  }
}

/** The link to show for a peer with these open connections: direct first, then the oldest. */
export function linkOf(connections: readonly LinkedConnection[]): PeerLink | null {
  const links = connections.map(linkOfConnection)
  links.sort((a, b) => (a.path === b.path ? a.opened_at - b.opened_at : a.path === 'direct' ? -1 : 1))
  return links[0] ?? null
}
