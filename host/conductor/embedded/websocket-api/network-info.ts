/**
 * What the conductor API reports of the network (`dump_network_stats`): kitsune2's TransportStats,
 * filled from the libp2p node the embedded conductor replicates over.
 */

import { encodeHashB64 } from '../../../identity/hash.ts'
import { agentOfPeer } from '../../../identity/peer-agent.ts'
import type { RippleNode } from '../../../net/create-node.ts'

export interface TransportConnection {
  /** HoloHashB64 of the peer's agent key (its PeerId is that key). */
  pub_key: string
  send_message_count: number
  send_bytes: number
  recv_message_count: number
  recv_bytes: number
  opened_at_s: number
  /** False for a connection through a relay. */
  is_direct: boolean
}

export interface TransportView {
  /** Where peers reach this conductor. */
  peerUrls(): string[]
  connections(): TransportConnection[]
}

export function transportStats(view: TransportView): Record<string, unknown> {
  return { backend: 'libp2p', peer_urls: view.peerUrls(), connections: view.connections() }
}

/**
 * The node's open connections to verified peers. libp2p keeps no per-connection message or byte
 * counters unless its metrics are on, so those four counts are reported as 0.
 */
export function libp2pTransportView(node: RippleNode): TransportView {
  return {
    peerUrls: () => node.multiaddrs().map(String),
    connections: () =>
      node.libp2p.getConnections().flatMap((conn) => {
        const agent = agentOfPeer(conn.remotePeer)
        if (agent === null || !node.peers.has(conn.remotePeer)) return []
        return [
          {
            pub_key: encodeHashB64(agent),
            send_message_count: 0,
            send_bytes: 0,
            recv_message_count: 0,
            recv_bytes: 0,
            opened_at_s: Math.floor(conn.timeline.open / 1000),
            is_direct: conn.limits === undefined,
          },
        ]
      }),
  }
}
