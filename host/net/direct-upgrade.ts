/**
 * Upgrades relayed connections to direct ones where the NATs allow: when a peer is verified over
 * relayed (limited) connections only and advertises a WebRTC address (`<relay>/p2p-circuit/webrtc`),
 * the lower PeerId of the pair dials it. WebRTC signals over the relayed connection, then ICE over
 * UDP tries the peers' public mappings (learnt from the relays' STUN); behind NATs that keep one
 * mapping per socket that gets through, behind NATs that pick a new port per destination it does
 * not, and the relayed connection simply stays.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import { CODE_WEBRTC } from '@multiformats/multiaddr'
import type { PeerBook } from './peer-book.ts'

/** How long one attempt (signalling + ICE) may take. */
const ATTEMPT_TIMEOUT_MS = 20_000
/** Delay before an attempt: the peer's WebRTC address reaches us by identify just after it connects. */
const SETTLE_MS = 1_000

export interface DirectUpgrade {
  stop(): void
}

export function startDirectUpgrade(libp2p: Libp2p, peers: PeerBook): DirectUpgrade {
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
      const webrtc = stored.addresses
        .map((a) => a.multiaddr)
        .filter((ma) => ma.getComponents().some((c) => c.code === CODE_WEBRTC))
      if (webrtc.length === 0) return
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)])
      const connection = await libp2p.dial(webrtc, { signal })
      log('direct connection to %p over %a', peer, connection.remoteAddr)
    } catch (err) {
      log('no direct connection to %p, staying relayed - %e', peer, err)
    } finally {
      trying.delete(key)
    }
  }

  const onConnect = (evt: CustomEvent<PeerId>) => void attempt(evt.detail)
  peers.addEventListener('peer:connect', onConnect)
  return {
    stop() {
      controller.abort()
      peers.removeEventListener('peer:connect', onConnect)
    },
  }
}
