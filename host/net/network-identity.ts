/**
 * What keeps two networks apart on the wire: every protocol id, gossip topic and mDNS service name
 * is derived from the network's name and seed, so peers of different networks never speak the same
 * protocol, and the full id is compared in the connection handshake.
 */
import { createHash } from 'node:crypto'
import type { NetworkConfig } from '../config/network-schema.ts'

export interface NetworkIdentity {
  /** sha256 of the network's name and seed; exchanged and compared in the handshake. */
  readonly id: Uint8Array
  /** First 16 hex digits of `id`: short enough for protocol ids and DNS labels. */
  readonly tag: string
  /** Gossip topic carrying DHT ops. */
  readonly opsTopic: string
  /** Gossip topic carrying small, loss-tolerant signals (heartbeats, presence). */
  readonly signalsTopic: string
  /** mDNS service name, so LAN discovery only reports peers of this network. */
  readonly mdnsServiceTag: string
  /** Full protocol id for a suffix such as `catch-up/1.0.0`. */
  protocol(suffix: string): string
}

export function networkIdentity(network: Pick<NetworkConfig, 'name' | 'seed'>): NetworkIdentity {
  // The name cannot contain '|', so the joined string is unambiguous.
  const id = new Uint8Array(createHash('sha256').update(`ripple/v1|${network.name}|${network.seed}`).digest())
  const tag = Buffer.from(id).toString('hex').slice(0, 16)
  const protocol = (suffix: string) => `/ripple/${tag}/${suffix}`
  return {
    id,
    tag,
    // 2.0.0: messages unsigned by libp2p, each passed on only once its receiver accepted it (pubsub.ts).
    opsTopic: protocol('ops/2.0.0'),
    signalsTopic: protocol('signals/2.0.0'),
    mdnsServiceTag: `_ripple-${tag}._udp.local`,
    protocol,
  }
}
