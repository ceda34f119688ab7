/**
 * Dials a member by id. In a mesh too large for every peer to be connected to every other, a peer
 * often knows a runner only by its heartbeats (no address): when the dial fails for that or for a
 * stale address, the directory's Kademlia finds the peer's addresses (O(log N) hops) and it dials once
 * more.
 */
import type { AbortOptions, Connection, Libp2p, PeerId } from '@libp2p/interface'

/** Finds `peer`'s addresses and stores them; whether any were found. */
export type LocatePeer = (peer: PeerId, options: Required<AbortOptions>) => Promise<boolean>

export async function dialMember(
  libp2p: Libp2p,
  peer: PeerId,
  signal: AbortSignal | undefined,
  locate?: LocatePeer,
): Promise<Connection> {
  try {
    return await libp2p.dial(peer, { signal })
  } catch (err) {
    const located = locate?.(peer, { signal: signal ?? AbortSignal.timeout(10_000) }).catch(() => false)
    if (signal?.aborted || !(await located)) throw err
    return libp2p.dial(peer, { signal })
  }
}
