/**
 * The order a dial tries a peer's addresses in: libp2p's own (public before private, relayed after
 * direct, loopback last, TCP first), except for a peer last reached through a relay rather than over
 * WebRTC: its relayed address before its WebRTC one. libp2p ranks WebRTC first, and behind a NAT that
 * picks a new port per destination ICE fails only after seconds, so every redial of such a peer (a
 * relay's limit cut the connection) waited for WebRTC to fail again before taking the relay.
 */
import type { Address, Connection } from '@libp2p/interface'
import {
  circuitRelayAddressesLast,
  loopbackAddressLast,
  publicAddressesFirst,
  reliableTransportsFirst,
} from '@libp2p/utils'
import { CODE_P2P, CODE_P2P_CIRCUIT, CODE_WEBRTC, type Multiaddr } from '@multiformats/multiaddr'

/** Peers remembered (the oldest go first). */
const REMEMBERED = 4096

export const isWebRTC = (ma: Multiaddr) => ma.getComponents().some((c) => c.code === CODE_WEBRTC)
const isRelayed = (ma: Multiaddr) =>
  !isWebRTC(ma) && ma.getComponents().some((c) => c.code === CODE_P2P_CIRCUIT)

const certifiedFirst = (a: Address, b: Address): -1 | 0 | 1 =>
  a.isCertified === b.isCertified ? 0 : a.isCertified ? -1 : 1

export class DialOrder {
  /** Peers whose WebRTC path failed or was not taken: the relay is tried first. */
  readonly #relayFirst = new Set<string>()

  /** A connection opened; `all` are the peer's open connections, it among them. */
  opened(connection: Connection, all: readonly Connection[]): void {
    const peer = connection.remotePeer.toString()
    if (isWebRTC(connection.remoteAddr)) this.#relayFirst.delete(peer)
    else if (isRelayed(connection.remoteAddr) && !all.some((c) => isWebRTC(c.remoteAddr)))
      this.relayFirst(peer)
  }

  /** `peer`'s WebRTC path did not carry (ICE never got through). */
  relayFirst(peer: string): void {
    this.#relayFirst.delete(peer)
    this.#relayFirst.add(peer)
    if (this.#relayFirst.size > REMEMBERED) this.#relayFirst.delete(this.#relayFirst.keys().next().value!)
  }

  /** A compare function for the connection manager's `addressSorter`. */
  readonly sort = (a: Address, b: Address): -1 | 0 | 1 =>
    this.#webRTCLast(a.multiaddr, b.multiaddr) ||
    loopbackAddressLast(a.multiaddr, b.multiaddr) ||
    publicAddressesFirst(a.multiaddr, b.multiaddr) ||
    circuitRelayAddressesLast(a.multiaddr, b.multiaddr) ||
    certifiedFirst(a, b) ||
    reliableTransportsFirst(a.multiaddr, b.multiaddr)

  #webRTCLast(a: Multiaddr, b: Multiaddr): -1 | 0 | 1 {
    if (isWebRTC(a) === isWebRTC(b)) return 0
    // The dialled peer is the address's last `/p2p` (the relay's comes before `/p2p-circuit`).
    const peer = (isWebRTC(a) ? a : b).getComponents().findLast((c) => c.code === CODE_P2P)?.value
    if (peer === undefined || !this.#relayFirst.has(peer)) return 0
    return isWebRTC(a) ? 1 : -1
  }
}
