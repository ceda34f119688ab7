/**
 * Who may be served. The pre-shared key and the hello handshake only prove a peer speaks this network
 * (an expired invite still carries the key); every protocol that serves work or bytes (direct requests,
 * the split's RPC tunnel, the shared memory, IPFS blocks, anything added later) first asks this gate
 * whether the connection's verified agent is an admitted, unrevoked member. What "admitted" means is
 * the coordination layer's to say (its rules hold the geneses and revocations): it hands the gate its
 * check once it runs; until then nobody is admitted. The same check holds on the way out: content goes
 * to members only (peer-streams.ts, request-response.ts). Two protocols are served to any peer of the
 * network: replication, how a newcomer's genesis, and so its membership, becomes known, and admission
 * (`admit/1.0.0`, membership/admission-witness.ts), how a newcomer gets the witness its genesis needs.
 */
import type { Libp2p, PeerId, StreamHandler } from '@libp2p/interface'
import type { Logger } from '../log/logger.ts'

/** Null when `peer` is an admitted, unrevoked member; otherwise why it is not. */
export type AdmissionCheck = (peer: PeerId, signal: AbortSignal) => Promise<string | null>

/** How long a check may wait (for a newcomer's genesis to arrive) before the peer is refused. */
const CHECK_TIMEOUT_MS = 10_000
/** A member admitted is not checked again for this long (every request asks); a revocation clears it. */
const ADMITTED_FOR_MS = 5_000
/**
 * A peer refused after the whole wait is looked up again without waiting for this long: a stranger
 * knocking again costs a lookup, not another wait (nor another log line).
 */
const REFUSED_FOR_MS = 30_000

export class MemberGate {
  #check: AdmissionCheck | null = null
  readonly #admitted = new Map<string, number>()
  readonly #refused = new Map<string, number>()
  readonly #logger: Logger | undefined

  constructor(logger?: Logger) {
    this.#logger = logger
  }

  /** Sets how membership is decided (the coordination layer, once it runs). */
  use(check: AdmissionCheck): void {
    this.#check = check
    this.#admitted.clear()
  }

  /** Forgets that `peer` was admitted (it was revoked or warranted): its next stream is checked again. */
  forget(peer: PeerId): void {
    this.#admitted.delete(peer.toString())
  }

  /** Drops what is remembered past its time (bounded however many peers knock). */
  #prune(now: number): void {
    for (const map of [this.#admitted, this.#refused])
      for (const [key, until] of map) if (until <= now) map.delete(key)
  }

  /**
   * Null when `peer` may be served; otherwise why not (logged once per refusal, unless `quiet`: a
   * newcomer not admitted yet is no news where the question is only whom to ask, as the directory's).
   */
  async refusal(peer: PeerId, protocol: string, options: { quiet?: boolean } = {}): Promise<string | null> {
    const key = peer.toString()
    const now = Date.now()
    if (this.#admitted.size + this.#refused.size > 1024) this.#prune(now)
    if ((this.#admitted.get(key) ?? 0) > now) return null
    const again = (this.#refused.get(key) ?? 0) > now
    const signal = again ? AbortSignal.abort() : AbortSignal.timeout(CHECK_TIMEOUT_MS)
    const why =
      this.#check === null
        ? 'membership is not known yet: this peer is still starting'
        : await this.#check(peer, signal).catch(
            (err: Error) => `its membership could not be checked: ${err.message}`,
          )
    if (why === null) {
      this.#admitted.set(key, Date.now() + ADMITTED_FOR_MS)
      this.#refused.delete(key)
    } else if (!again) {
      this.#refused.set(key, Date.now() + REFUSED_FOR_MS)
      if (options.quiet !== true)
        this.#logger?.warn({ peer: key, protocol, why }, 'refused a peer that is not a member of this mesh')
    }
    return why
  }

  /**
   * Null when content may go to `peer` on `protocol`: it is a member; or this node judges no membership
   * (no check set: a joiner's node asking to be admitted, a tool), so there is no mesh to keep it in.
   * A peer of a mesh sets its check before it starts, so its services never send unchecked.
   */
  async sendRefusal(peer: PeerId, protocol: string): Promise<string | null> {
    return this.#check === null ? null : this.refusal(peer, protocol)
  }

  /** `handler` behind the gate: a stream from a peer that is not a member is reset before it starts. */
  guard(protocol: string, handler: StreamHandler): StreamHandler {
    return async (stream, connection) => {
      const why = await this.refusal(connection.remotePeer, protocol)
      if (why !== null) {
        stream.abort(new Error(`not a member of this mesh: ${why}`))
        return
      }
      await handler(stream, connection)
    }
  }

  /**
   * `libp2p` as seen by a service that registers its own protocols (Helia's bitswap): every handler it
   * registers is behind the gate; the rest is the node itself.
   */
  membersOnly<T extends Libp2p>(libp2p: T): T {
    const handle: Libp2p['handle'] = (protocols, handler, options) => {
      const names = Array.isArray(protocols) ? protocols : [protocols]
      return libp2p.handle(protocols, this.guard(names.join(','), handler), options)
    }
    return new Proxy(libp2p, {
      get(target, prop) {
        if (prop === 'handle') return handle
        const value = Reflect.get(target, prop, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  }
}
