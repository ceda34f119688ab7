/**
 * A peer's PeerId is its agent key (both Ed25519, `peerKeyFromSeed`), so the peer that sent a message
 * is an agent that can be warranted when what it sent is forged.
 */
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { core32, decodeHashB64, encodeHashB64, holoHashFrom32 } from './hash.ts'

/** The AgentPubKey of an Ed25519 peer, or null for a peer with another kind of key. */
export function agentOfPeer(peer: PeerId): Uint8Array | null {
  return peer.type === 'Ed25519' ? holoHashFrom32(peer.publicKey.raw, 'agent') : null
}

/** PeerIds already derived, by agent: every direct request and signal names its peer by agent. */
const peerIds = new Map<string, PeerId>()
/** A mesh's members fit many times over; past it the map starts again rather than grow. */
const PEER_IDS_KEPT = 4096

/** An agent's PeerId: both are its Ed25519 public key. */
export function peerIdOfAgent(agent: string): PeerId {
  let peer = peerIds.get(agent)
  if (peer === undefined) {
    peer = peerIdFromPublicKey(publicKeyFromRaw(core32(decodeHashB64(agent, 'agent'))))
    if (peerIds.size >= PEER_IDS_KEPT) peerIds.clear()
    peerIds.set(agent, peer)
  }
  return peer
}

/** The AgentPubKey (base64) of an Ed25519 peer, or null for a peer with another kind of key. */
export function agentOfPeerB64(peer: PeerId): string | null {
  let agent = agentsOfPeers.get(peer)
  if (agent === undefined) {
    const raw = agentOfPeer(peer)
    agent = raw === null ? null : encodeHashB64(raw)
    agentsOfPeers.set(peer, agent)
  }
  return agent
}

/** Agents already derived, by the PeerId a connection holds: every stream it carries names it again. */
const agentsOfPeers = new WeakMap<PeerId, string | null>()
