/**
 * When this peer last exchanged work with each peer (a request sent or answered), so the connection
 * trimmer leaves a connection in use alone although its idle streams stay open for reuse. A use is of
 * one of three kinds (`Use`), which tell the trimmer how long the connection is worth keeping after it.
 */
import type { PeerId } from '@libp2p/interface'

/**
 * 'request' (a runner asked, a direct stream): the peer is likely asked again, so its connection is
 * kept a while after. 'brief' (a record op pushed to its holders, a record read from them): an op's
 * holders are other peers each time, so the connection is done with soon after. 'upkeep' (the periodic
 * anti-entropy and peer exchange rounds): held only while it runs, no use after: those rounds reach
 * every connected peer within a minute or so, so counted as use they kept every connection a peer ever
 * dialled (a holder pushed to once, a neighbour visited) open for good, and a mesh of 32 fully connected.
 */
export type Use = 'request' | 'brief' | 'upkeep'

export class PeerActivity {
  readonly #inFlight = new Map<string, number>()
  readonly #lastAt = new Map<string, number>()
  /** Peers a 'request' use with ended since they connected. */
  readonly #asked = new Set<string>()

  /** Marks work with `peer` begun; call the returned function when it ends. */
  begin(peer: PeerId, use: Use = 'request'): () => void {
    const key = peer.toString()
    this.#inFlight.set(key, (this.#inFlight.get(key) ?? 0) + 1)
    return () => {
      const left = (this.#inFlight.get(key) ?? 1) - 1
      if (left > 0) this.#inFlight.set(key, left)
      else this.#inFlight.delete(key)
      if (use !== 'upkeep') this.#lastAt.set(key, Date.now())
      if (use === 'request') this.#asked.add(key)
    }
  }

  /** Now while work with `peer` is in flight, else when the last use (not upkeep) ended (undefined: never). */
  lastActiveAt(peer: PeerId): number | undefined {
    const key = peer.toString()
    return this.#inFlight.has(key) ? Date.now() : this.#lastAt.get(key)
  }

  /** Whether a 'request' use with `peer` ended since it connected. */
  asked(peer: PeerId): boolean {
    return this.#asked.has(peer.toString())
  }

  /** Drops what is known of a peer no longer connected (work in flight still ends normally). */
  forget(peer: PeerId): void {
    this.#lastAt.delete(peer.toString())
    this.#asked.delete(peer.toString())
  }
}
