/**
 * Optional pre-shared key: every connection is encrypted with it before noise, so a peer without
 * the key cannot even complete a handshake.
 */
import type { ConnectionProtector } from '@libp2p/interface'
import { preSharedKey } from '@libp2p/pnet'

/** The config holds the raw key as hex; @libp2p/pnet wants it wrapped in the v1 swarm key format. */
export function swarmKey(pskHex: string): Uint8Array {
  return new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${pskHex}`)
}

export function privateNetwork(pskHex: string): () => ConnectionProtector {
  return preSharedKey({ psk: swarmKey(pskHex) })
}
