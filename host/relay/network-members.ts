/**
 * The peers of one network a relay serves: those that said hello with that network's id. Unlike a
 * peer's own book it never greets and never drops anyone (a relay carries circuits for peers of
 * several networks); it only answers hellos, so peers verify it, and lists who did.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import { TypedEventEmitter } from 'main-event'
import { OWN_STATEMENT } from '../interface/release.ts'
import { answerHello, answerHello2, HELLO_PROTOCOL_SUFFIX, HELLO2_PROTOCOL_SUFFIX } from '../net/handshake.ts'
import type { NetworkIdentity } from '../net/network-identity.ts'
import { LIMITED_OK, type PeerBook, type PeerBookEvents } from '../net/peer-book.ts'

const HELLO_TIMEOUT_MS = 5_000

export class NetworkMembers extends TypedEventEmitter<PeerBookEvents> implements PeerBook {
  readonly #members = new Map<string, PeerId>()
  readonly #helloProtocol: string
  readonly #hello2Protocol: string

  readonly #libp2p: Libp2p
  readonly #identity: NetworkIdentity

  constructor(libp2p: Libp2p, identity: NetworkIdentity) {
    super()
    this.#libp2p = libp2p
    this.#identity = identity
    this.#helloProtocol = identity.protocol(HELLO_PROTOCOL_SUFFIX)
    this.#hello2Protocol = identity.protocol(HELLO2_PROTOCOL_SUFFIX)
  }

  async start(): Promise<void> {
    // Both hellos: peers of 0.1.0 speak only the first; later ones learn this relay's release from the second.
    await this.#libp2p.handle(
      [this.#helloProtocol, this.#hello2Protocol],
      (stream, connection) => {
        const options = { signal: AbortSignal.timeout(HELLO_TIMEOUT_MS) }
        const hello =
          stream.protocol === this.#hello2Protocol
            ? answerHello2(stream, this.#identity.id, OWN_STATEMENT, options)
            : answerHello(stream, this.#identity.id, options)
        hello.then(
          () => {
            const key = connection.remotePeer.toString()
            if (connection.status !== 'open' || this.#members.has(key)) return
            this.#members.set(key, connection.remotePeer)
            this.safeDispatchEvent('peer:connect', { detail: connection.remotePeer })
          },
          () => {},
        )
      },
      LIMITED_OK,
    )
    this.#libp2p.addEventListener('peer:disconnect', this.#onDisconnect)
  }

  async stop(): Promise<void> {
    this.#libp2p.removeEventListener('peer:disconnect', this.#onDisconnect)
    await this.#libp2p.unhandle([this.#helloProtocol, this.#hello2Protocol])
    this.#members.clear()
  }

  has(peer: PeerId): boolean {
    return this.#members.has(peer.toString())
  }

  list(): PeerId[] {
    return [...this.#members.values()]
  }

  /** A peer asks only after its hello was answered, so there is nothing to wait for. */
  whenVerified(peer: PeerId): Promise<boolean> {
    return Promise.resolve(this.has(peer))
  }

  readonly #onDisconnect = (evt: CustomEvent<PeerId>) => {
    if (this.#members.delete(evt.detail.toString()))
      this.safeDispatchEvent('peer:disconnect', { detail: evt.detail })
  }
}
