/**
 * Upgrades relayed connections to direct ones where the NATs allow: when a peer is verified over
 * relayed (limited) connections only and advertises a WebRTC address (`<relay>/p2p-circuit/webrtc`),
 * the lower PeerId of the pair dials it. WebRTC signals over the relayed connection, then ICE over
 * UDP tries the peers' public mappings (learnt from the relays' STUN); behind NATs that keep one
 * mapping per socket that gets through, behind NATs that pick a new port per destination it does
 * not, and the relayed connection simply stays.
 */
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import { type DialOrder, isWebRTC } from './dial-order.ts'
import type { PeerBook } from './peer-book.ts'

/** How long a new WebRTC connection has to carry a first stream before it is dropped. */
const PROBE_TIMEOUT_MS = 10_000
/** Any protocol both sides serve proves the path: ping's. */
const PROBE_PROTOCOL = '/ipfs/ping/1.0.0'

/** How long one attempt (signalling + ICE) may take. */
const ATTEMPT_TIMEOUT_MS = 20_000
/** Delay before an attempt: the peer's WebRTC address reaches us by identify just after it connects. */
const SETTLE_MS = 1_000

export interface DirectUpgrade {
  /**
   * False for a WebRTC connection that has not carried a stream yet. The side that answers a WebRTC
   * dial sees the connection open before ICE got through, and if ICE never does, it is a dead end
   * until it times out: nothing is sent over it, nor is it shown as the peer's link, until then.
   */
  usable(connection: Connection): boolean
  stop(): void
}

export function startDirectUpgrade(libp2p: Libp2p, peers: PeerBook, order: DialOrder): DirectUpgrade {
  const log = libp2p.logger.forComponent('ripple:direct-upgrade')
  const controller = new AbortController()
  const trying = new Set<string>()

  const relayedOnly = (peer: PeerId) => {
    const connections = libp2p.getConnections(peer)
    return connections.length > 0 && connections.every((c) => c.limits !== undefined)
  }

  const attempt = async (peer: PeerId) => {
    const key = peer.toString()
    if (trying.has(key) || libp2p.peerId.toString() > key) return
    trying.add(key)
    try {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
      if (controller.signal.aborted || !relayedOnly(peer)) return
      const stored = await libp2p.peerStore.get(peer)
      const webrtc = stored.addresses.map((a) => a.multiaddr).filter(isWebRTC)
      if (webrtc.length === 0) return
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)])
      const connection = await libp2p.dial(webrtc, { signal })
      log('dialled %p over WebRTC, got %a', peer, connection.remoteAddr)
    } catch (err) {
      log('no direct connection to %p, staying relayed - %e', peer, err)
    } finally {
      trying.delete(key)
    }
  }

  const confirmed = new WeakSet<Connection>()
  const probe = async (connection: Connection) => {
    if (!isWebRTC(connection.remoteAddr)) return
    try {
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)])
      const stream = await connection.newStream(PROBE_PROTOCOL, { signal })
      await stream.close()
      confirmed.add(connection)
      log('direct connection to %p carries streams', connection.remotePeer)
    } catch (err) {
      log('WebRTC connection to %p never carried a stream, dropping it - %e', connection.remotePeer, err)
      connection.abort(new Error('WebRTC path never opened'))
      order.relayFirst(connection.remotePeer.toString())
    }
  }

  const onConnect = (evt: CustomEvent<PeerId>) => void attempt(evt.detail)
  const onConnectionOpen = ({ detail: connection }: CustomEvent<Connection>) => {
    order.opened(connection, libp2p.getConnections(connection.remotePeer))
    void probe(connection)
  }
  peers.addEventListener('peer:connect', onConnect)
  libp2p.addEventListener('connection:open', onConnectionOpen)
  return {
    usable: (connection) => !isWebRTC(connection.remoteAddr) || confirmed.has(connection),
    stop() {
      controller.abort()
      peers.removeEventListener('peer:connect', onConnect)
      libp2p.removeEventListener('connection:open', onConnectionOpen)
    },
  }
}
