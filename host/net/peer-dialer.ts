/**
 * Who we dial: explicit peers (`--peer`, the network's bootstrap list, an invite's inviter) are kept
 * connected with backoff, and peers reported by discovery are dialled when not already connected.
 * Discovery only reports; nothing else in libp2p dials them for us.
 *
 * An explicit peer is a way in, not a place to stay: once this peer has its own neighbours (`settled`),
 * it lets its explicit peers go (the trimmer closes them once unused a moment) and dials them again if it
 * loses its neighbours. Kept, every member a peer invited held a connection to it for good: the
 * admin of a mesh of N held N - 1. Without `settled` (a peer behind NAT: they are its relays) they
 * stay connected.
 */
import { setMaxListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { KEEP_ALIVE, type Libp2p, type PeerDiscovery, type PeerId, type PeerInfo } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { CODE_P2P, type Multiaddr, multiaddr } from '@multiformats/multiaddr'

export interface PeerDialerInit {
  /** Multiaddrs to keep connected, with or without a `/p2p/<id>` suffix. */
  peers: string[]
  /** Discovery modules whose reports are dialled. */
  discovery: PeerDiscovery[]
  /**
   * Whether reported peers are dialled now, given `pending` dials of reported peers in flight (the
   * peer is below its neighbour target counting them); default: always.
   */
  wanted?: (pending: number) => boolean
  /** Whether this peer has neighbours enough to let its explicit peers go; without it, never. */
  settled?: () => boolean
}

/** First retry delay after a failed dial of an explicit peer; doubles up to RETRY_MAX_MS. */
const RETRY_MIN_MS = 250
const RETRY_MAX_MS = 5_000
/** The peer store tag of an explicit peer. */
export const EXPLICIT_PEER_TAG = 'ripple-explicit-peer'
/** The peer store tag of an explicit peer let go (connection-trimmer.ts closes it once unused). */
export const RELEASED_PEER_TAG = 'ripple-released-peer'
/** How long the higher PeerId of a pair leaves the dial to the lower one. */
const TIE_BREAK_MS = 2_000

export interface PeerDialer {
  /** Whether `peer` is one of the explicit peers (once dialled, when its address did not name it). */
  isExplicit(peer: PeerId): boolean
  stop(): void
}

export function startPeerDialer(libp2p: Libp2p, init: PeerDialerInit): PeerDialer {
  const log = libp2p.logger.forComponent('ripple:dialer')
  const controller = new AbortController()
  const { signal } = controller
  // One listener per explicit peer and per dial in flight: many, by design, not a leak.
  setMaxListeners(Number.POSITIVE_INFINITY, signal)
  const dialling = new Set<string>()
  const self = libp2p.peerId.toString()
  /** When each lower-id peer was first reported, for the dial tie-break below. */
  const firstReported = new Map<string, number>()

  const isConnected = (peer: PeerId) => libp2p.getConnections(peer).length > 0

  /** Resolves when `peer` has no connection left, or the dialer stops. */
  const disconnected = (peer: PeerId) =>
    new Promise<void>((resolve) => {
      const onDisconnect = (evt: CustomEvent<PeerId>) => {
        if (evt.detail.equals(peer)) done()
      }
      const done = () => {
        libp2p.removeEventListener('peer:disconnect', onDisconnect)
        signal.removeEventListener('abort', done)
        resolve()
      }
      libp2p.addEventListener('peer:disconnect', onDisconnect)
      signal.addEventListener('abort', done, { once: true })
      if (!isConnected(peer) || signal.aborted) done()
    })

  const explicit = new Set<string>()
  const settled = () => init.settled?.() === true
  const tag = (peer: PeerId, tags: Record<string, { value: number } | undefined>) =>
    libp2p.peerStore.merge(peer, { tags }).catch((err: Error) => log('could not tag %p - %e', peer, err))
  /** Resolves when `peer` has no connection left, this peer is settled, or the dialer stops. */
  const disconnectedOrSettled = async (peer: PeerId) => {
    const gone = disconnected(peer)
    let out = false
    void gone.then(() => {
      out = true
    })
    while (!out && !signal.aborted && !settled())
      await Promise.race([gone, sleep(RETRY_MAX_MS, undefined, { signal }).catch(() => {})])
  }

  const keepConnected = async (addr: Multiaddr) => {
    // Known up front when the address names its peer, so a connection it opened to us counts.
    const named = addr.getComponents().findLast((c) => c.code === CODE_P2P)?.value
    let peer: PeerId | undefined = named === undefined ? undefined : peerIdFromString(named)
    if (peer !== undefined) explicit.add(peer.toString())
    let delay = RETRY_MIN_MS
    while (!signal.aborted) {
      if ((peer === undefined || !isConnected(peer)) && !settled()) {
        try {
          peer = (await libp2p.dial(addr, { signal })).remotePeer
          explicit.add(peer.toString())
        } catch (err) {
          log('dial %a failed, retrying in %d ms - %e', addr, delay, err)
        }
      }
      if (peer !== undefined && isConnected(peer)) {
        const since = Date.now()
        if (settled()) {
          // Let go: not kept, not redialled by libp2p (the neighbour tag peer exchange may have put).
          await tag(peer, {
            [EXPLICIT_PEER_TAG]: undefined,
            [KEEP_ALIVE]: undefined,
            [RELEASED_PEER_TAG]: { value: 0 },
          })
          await disconnected(peer)
        } else {
          // Tagged so the connection trimmer never closes it (tags are what libp2p values a peer by).
          await tag(peer, { [EXPLICIT_PEER_TAG]: { value: 1 }, [RELEASED_PEER_TAG]: undefined })
          await disconnectedOrSettled(peer)
        }
        // A connection that lasted resets the backoff; one dropped at once (say, a failed
        // handshake) must not turn this loop into a dial storm.
        if (Date.now() - since > RETRY_MAX_MS) delay = RETRY_MIN_MS
        if (isConnected(peer)) continue
      }
      await sleep(delay, undefined, { signal }).catch(() => {})
      delay = Math.min(delay * 2, RETRY_MAX_MS)
    }
  }

  // Discovery repeats its reports, so a peer that restarted is dialled again on the next one.
  const onPeer = (evt: CustomEvent<PeerInfo>) => {
    const { id, multiaddrs } = evt.detail
    const key = id.toString()
    if (signal.aborted || key === self) return
    // Two peers usually hear each other's announcements together: the lower PeerId dials, so a
    // pair gets one connection, not two. The higher one dials on a later report if still apart.
    if (self > key && !firstReported.has(key)) firstReported.set(key, Date.now())
    // Dials in flight count: mDNS on a LAN reports every peer at once, and each would otherwise be
    // dialled before the first was verified.
    if (dialling.has(key) || isConnected(id) || explicit.has(key) || init.wanted?.(dialling.size) === false)
      return
    if (self > key && Date.now() - firstReported.get(key)! < TIE_BREAK_MS) return
    dialling.add(key)
    // Dial the reported addresses: libp2p adds them to its peer store asynchronously.
    const addrs = multiaddrs.map((a) =>
      a.getComponents().some((c) => c.code === CODE_P2P) ? a : a.encapsulate(`/p2p/${key}`),
    )
    libp2p
      .dial(addrs, { signal })
      .catch((err: Error) => log('dial of discovered %p failed - %e', id, err))
      .finally(() => dialling.delete(key))
  }

  for (const discovery of init.discovery) discovery.addEventListener('peer', onPeer)
  for (const addr of init.peers) void keepConnected(multiaddr(addr))

  return {
    isExplicit: (peer) => explicit.has(peer.toString()),
    stop() {
      controller.abort()
      for (const discovery of init.discovery) discovery.removeEventListener('peer', onPeer)
    },
  }
}
