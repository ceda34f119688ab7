/**
 * A peer's PeerId is its agent key (both Ed25519, `peerKeyFromSeed`), so the peer that sent a message
 * is an agent that can be warranted when what it sent is forged.
 */
import type { PeerId } from '@libp2p/interface'
import { holoHashFrom32 } from '../hash.ts'

/** The AgentPubKey of an Ed25519 peer, or null for a peer with another kind of key. */
export function agentOfPeer(peer: PeerId): Uint8Array | null {
  return peer.type === 'Ed25519' ? holoHashFrom32(peer.publicKey.raw, 'agent') : null
}
