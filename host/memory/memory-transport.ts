/**
 * How the memory service reaches another peer's memory service, by agent key. On the embedded backend
 * it is the node's request/response protocol (a peer's PeerId is its agent key).
 */
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { decodeHashB64 } from '../identity/hash.ts'
import type { RequestResponse } from '../net/request-response.ts'
import { MEMORY_PROTOCOL } from './memory-wire.ts'

export interface MemoryTransport {
  /** Serve requests from peers (the handler's answer, or its error, goes back to the asker). */
  serve(handler: (request: Uint8Array, from: string) => Promise<Uint8Array>): Promise<void>
  /** Rejects when the peer does not answer within `timeoutMs` (default: the transport's). */
  request(
    agent: string,
    request: Uint8Array,
    options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<Uint8Array>
  stop(): Promise<void>
}

/** The libp2p peer of an agent: the Ed25519 key inside its AgentPubKey (bytes 3..35 of the HoloHash). */
export function peerOfAgent(agent: string) {
  return peerIdFromPublicKey(publicKeyFromRaw(decodeHashB64(agent, 'agent').subarray(3, 35)))
}

export function rpcMemoryTransport(rpc: RequestResponse, timeoutMs = 30_000): MemoryTransport {
  return {
    serve: (handler) => rpc.handle(MEMORY_PROTOCOL, (request, peer) => handler(request, peer.toString())),
    request: (agent, request, options = {}) =>
      rpc.request(peerOfAgent(agent), MEMORY_PROTOCOL, request, { timeoutMs, ...options }),
    stop: () => rpc.unhandle(MEMORY_PROTOCOL),
  }
}
