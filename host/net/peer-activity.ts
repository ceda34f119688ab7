/**
 * When this peer last exchanged work with each peer (a request sent or answered), so the connection
 * trimmer leaves a connection in use alone although its idle streams stay open for reuse.
 */
import type { PeerId } from '@libp2p/interface'

export class PeerActivity {
  readonly #inFlight = new Map<string, number>()
  readonly #lastAt = new Map<string, number>()

  /** Marks work with `peer` begun; call the returned function when it ends. */
  begin(peer: PeerId): () => void {
    const key = peer.toString()
    this.#inFlight.set(key, (this.#inFlight.get(key) ?? 0) + 1)
    return () => {
      const left = (this.#inFlight.get(key) ?? 1) - 1
      if (left > 0) this.#inFlight.set(key, left)
      else this.#inFlight.delete(key)
      this.#lastAt.set(key, Date.now())
    }
  }

  /** Now while work with `peer` is in flight, else when the last ended (undefined: never). */
  lastActiveAt(peer: PeerId): number | undefined {
    const key = peer.toString()
    return this.#inFlight.has(key) ? Date.now() : this.#lastAt.get(key)
  }

  /** Drops what is known of a peer no longer connected (work in flight still ends normally). */
  forget(peer: PeerId): void {
    this.#lastAt.delete(peer.toString())
  }
}
