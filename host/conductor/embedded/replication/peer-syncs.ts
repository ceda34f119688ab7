/**
 * When this peer runs anti-entropy, and with whom: one exchange at a time per peer (asked again
 * meanwhile, one more after it), the sender of ops that arrived before what they build on asked a
 * moment later, a peer just seen subscribing to the ops asked a moment later, and periodic rounds over
 * a few random connected peers.
 */
import type { PeerId } from '@libp2p/interface'

/**
 * How long ops that arrived before what they build on wait before their sender is asked for what is
 * missing: in a burst the missing ops are usually still on their way by gossip.
 */
const WAITING_SYNC_DELAY_MS = 300
/** How long after a peer's subscription is seen it is asked: its side learns ours about as late. */
const SUBSCRIBED_SYNC_DELAY_MS = 500
/**
 * On a sharded mesh, a peer exchanged with within this many rounds is not asked again as it connects or
 * subscribes (a minute at the daemon's pace): `connected`.
 */
const RECENT_SYNC_ROUNDS = 12

export interface PeerSyncsInit {
  /** One anti-entropy exchange with the peer: whether it ran to its end (it never rejects). */
  exchange: (peer: PeerId) => Promise<boolean>
  /** Whether received ops still wait for what they build on. */
  waiting: () => boolean
  /** Peers asked in each periodic round. */
  peersPerRound: number
  /** The periodic rounds' interval (ms). */
  intervalMs: number
}

export class PeerSyncs {
  readonly #init: PeerSyncsInit
  /** Exchanges in flight per peer; a peer asked again meanwhile gets one more exchange after. */
  readonly #running = new Map<string, { done: Promise<void>; again: boolean }>()
  /** Peers to ask shortly, by why and peer: senders of ops still waiting, peers just subscribed. */
  readonly #soon = new Map<string, NodeJS.Timeout>()
  /** When the last exchange with each peer ended whole (ms), for those within RECENT_SYNC_ROUNDS. */
  readonly #endedAt = new Map<string, number>()
  readonly #recentMs: number
  #stopped = false

  constructor(init: PeerSyncsInit) {
    this.#init = init
    this.#recentMs = RECENT_SYNC_ROUNDS * init.intervalMs
  }

  /** Starts (or queues one more) exchange with `peer`; resolves when it is done. */
  sync(peer: PeerId): Promise<void> {
    const key = peer.toString()
    const running = this.#running.get(key)
    if (running !== undefined) {
      running.again = true
      return running.done
    }
    const state = { done: Promise.resolve(), again: false }
    state.done = (async () => {
      let whole: boolean
      do {
        state.again = false
        whole = await this.#init.exchange(peer)
      } while (state.again && !this.#stopped)
      this.#running.delete(key)
      // One that failed (unreachable, cut off) compared nothing: the peer's next connection asks again.
      if (whole) this.#endedAt.set(key, Date.now())
      else this.#endedAt.delete(key)
    })()
    this.#running.set(key, state)
    return state.done
  }

  /**
   * `peer` connected: an exchange with it, unless `sharded` and one ended within RECENT_SYNC_ROUNDS. A
   * connection opened again soon after the last (an op pushed to a holder, a neighbour visited, a pair
   * the trimmer closed) has nothing new to compare yet, and on a sharded mesh such connections come and
   * go every few seconds, each running an exchange at both ends as it opens and again as it subscribes.
   * A team's mesh (not sharded) exchanges on every connect, as before.
   */
  connected(peer: PeerId, sharded: boolean): Promise<void> {
    return sharded ? this.#syncUnlessRecent(peer) : this.sync(peer)
  }

  #syncUnlessRecent(peer: PeerId): Promise<void> {
    const key = peer.toString()
    // One under way is as recent as can be: its subscription, seen half a second after it connects,
    // queued a second exchange behind the first at every connection opened (32 daemons: a third of all).
    const running = this.#running.get(key)
    if (running !== undefined) return running.done
    const endedAt = this.#endedAt.get(key)
    if (endedAt !== undefined && Date.now() - endedAt < this.#recentMs) return Promise.resolve()
    return this.sync(peer)
  }

  /** `peer` sent ops that build on ops not held here: it has them, asked shortly if still missing. */
  soon(peer: PeerId): void {
    this.#after('waiting', peer, WAITING_SYNC_DELAY_MS, () => this.#init.waiting())
  }

  /**
   * `peer` was just seen subscribing to the ops: until it saw this peer subscribe too (about now), what
   * it published went to every subscriber but this one, and the exchange run on connecting may have
   * come before; it is asked once both sides know of each other (`sharded`: as `connected` says).
   */
  subscribed(peer: PeerId, sharded: boolean): void {
    this.#after('subscribed', peer, SUBSCRIBED_SYNC_DELAY_MS, () => true, sharded)
  }

  #after(why: string, peer: PeerId, delayMs: number, still: () => boolean, sharded = false): void {
    const key = `${why} ${peer}`
    if (this.#soon.has(key)) return
    const timer = setTimeout(() => {
      this.#soon.delete(key)
      if (still()) void this.connected(peer, sharded)
    }, delayMs)
    timer.unref()
    this.#soon.set(key, timer)
  }

  /** A periodic round: a few of `peers` with no exchange under way, at random. */
  round(peers: PeerId[]): void {
    const now = Date.now()
    for (const [key, at] of this.#endedAt) if (now - at >= this.#recentMs) this.#endedAt.delete(key)
    // A peer being exchanged with now is compared already: asking it too queued one more behind.
    const shuffled = peers.filter((peer) => !this.#running.has(peer.toString()))
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
    }
    for (const peer of shuffled.slice(0, this.#init.peersPerRound)) void this.sync(peer)
  }

  /** Asks no one again; resolves once the exchanges under way have ended. */
  async stop(): Promise<void> {
    this.#stopped = true
    for (const timer of this.#soon.values()) clearTimeout(timer)
    await Promise.allSettled([...this.#running.values()].map((s) => s.done))
  }
}
