/**
 * The peers of this network we are connected to. A connected peer only counts once it passed the
 * hello handshake; one that fails it (another network, or silence) is disconnected. Its events are
 * what catch-up hangs on: `peer:connect` starts an anti-entropy exchange with that peer.
 */
import type { Connection, Libp2p, PeerId, TypedEventTarget } from '@libp2p/interface'
import { TypedEventEmitter } from 'main-event'
import { OWN_STATEMENT, type ReleaseStatement, UNSTATED } from '../interface/release.ts'
import {
  answerHello,
  answerHello2,
  HELLO_PROTOCOL_SUFFIX,
  HELLO2_PROTOCOL_SUFFIX,
  sayHello,
  sayHello2,
} from './handshake.ts'
import type { NetworkIdentity } from './network-identity.ts'

export interface PeerRejection {
  peer: PeerId
  reason: string
}

export interface PeerStatement {
  peer: PeerId
  statement: ReleaseStatement
}

export interface PeerBookEvents {
  /**
   * A peer passed a hello and said which release it runs (UNSTATED for a hello/1 peer): on every
   * connection's hello, before that peer's `peer:connect`.
   */
  'peer:stated': CustomEvent<PeerStatement>
  /** A peer passed the handshake (first connection only, not every extra one). */
  'peer:connect': CustomEvent<PeerId>
  /** A verified peer's last connection closed. */
  'peer:disconnect': CustomEvent<PeerId>
  /** A peer failed the handshake and was disconnected. */
  'peer:rejected': CustomEvent<PeerRejection>
}

export interface PeerBook extends TypedEventTarget<PeerBookEvents> {
  has(peer: PeerId): boolean
  list(): PeerId[]
  /**
   * True once `peer` passed the handshake; false when it fails, the peer is not connected, the
   * handshake takes longer than its timeout, or `signal` aborts.
   */
  whenVerified(peer: PeerId, signal?: AbortSignal): Promise<boolean>
}

export interface PeerBookInit {
  /** How long a new connection has to complete the handshake. */
  handshakeTimeoutMs?: number
  /** What this peer states in hello/2; this release's by default. */
  statement?: ReleaseStatement
}

/** Start before libp2p starts, so no greeting arrives before the hello handler exists. */
export interface StartablePeerBook extends PeerBook {
  start(): Promise<void>
  stop(): Promise<void>
}

type Waiter = (verified: boolean) => void

/** Peers behind NAT meet over relayed (limited) connections: the handshake runs there too. */
export const LIMITED_OK = { runOnLimitedConnection: true } as const

/** How long a new connection has to pass the hello handshake, by default. */
export const HANDSHAKE_TIMEOUT_MS = 5_000

class DefaultPeerBook extends TypedEventEmitter<PeerBookEvents> implements StartablePeerBook {
  readonly #verified = new Map<string, PeerId>()
  readonly #waiters = new Map<string, Set<Waiter>>()
  /** Per inbound connection (by id): when it is dropped if the peer has not said hello. */
  readonly #inboundDeadlines = new Map<string, NodeJS.Timeout>()
  readonly #helloProtocol: string
  readonly #hello2Protocol: string
  readonly #statement: ReleaseStatement
  readonly #timeoutMs: number
  #stopping = false

  readonly #libp2p: Libp2p
  readonly #identity: NetworkIdentity

  constructor(libp2p: Libp2p, identity: NetworkIdentity, init: PeerBookInit) {
    super()
    this.#libp2p = libp2p
    this.#identity = identity
    this.#helloProtocol = identity.protocol(HELLO_PROTOCOL_SUFFIX)
    this.#hello2Protocol = identity.protocol(HELLO2_PROTOCOL_SUFFIX)
    this.#statement = init.statement ?? OWN_STATEMENT
    this.#timeoutMs = init.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS
  }

  async start(): Promise<void> {
    this.#stopping = false
    // hello/1 stays answered: a 0.1.0 peer speaks nothing else.
    await this.#libp2p.handle(
      this.#helloProtocol,
      (stream, connection) => {
        answerHello(stream, this.#identity.id, { signal: AbortSignal.timeout(this.#timeoutMs) }).then(
          () => this.#accept(connection, UNSTATED),
          (err: Error) => this.#reject(connection, err.message),
        )
      },
      LIMITED_OK,
    )
    await this.#libp2p.handle(
      this.#hello2Protocol,
      (stream, connection) => {
        const options = { signal: AbortSignal.timeout(this.#timeoutMs) }
        answerHello2(stream, this.#identity.id, this.#statement, options).then(
          (statement) => this.#accept(connection, statement),
          (err: Error) => this.#reject(connection, err.message),
        )
      },
      LIMITED_OK,
    )
    this.#libp2p.addEventListener('connection:open', this.#onConnectionOpen)
    this.#libp2p.addEventListener('connection:close', this.#onConnectionClose)
    this.#libp2p.addEventListener('peer:disconnect', this.#onPeerDisconnect)
  }

  async stop(): Promise<void> {
    this.#stopping = true
    this.#libp2p.removeEventListener('connection:open', this.#onConnectionOpen)
    this.#libp2p.removeEventListener('connection:close', this.#onConnectionClose)
    this.#libp2p.removeEventListener('peer:disconnect', this.#onPeerDisconnect)
    for (const timer of this.#inboundDeadlines.values()) clearTimeout(timer)
    this.#inboundDeadlines.clear()
    for (const key of [...this.#waiters.keys()]) this.#settle(key, false)
    await this.#libp2p.unhandle([this.#helloProtocol, this.#hello2Protocol])
  }

  has(peer: PeerId): boolean {
    return this.#verified.has(peer.toString())
  }

  list(): PeerId[] {
    return [...this.#verified.values()]
  }

  whenVerified(peer: PeerId, signal?: AbortSignal): Promise<boolean> {
    const key = peer.toString()
    if (this.#verified.has(key)) return Promise.resolve(true)
    if (this.#stopping || signal?.aborted || this.#libp2p.getConnections(peer).length === 0) {
      return Promise.resolve(false)
    }
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(key) ?? new Set<Waiter>()
      this.#waiters.set(key, waiters)
      const done: Waiter = (verified) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        waiters.delete(done)
        if (waiters.size === 0 && this.#waiters.get(key) === waiters) this.#waiters.delete(key)
        resolve(verified)
      }
      const onAbort = () => done(false)
      const timer = setTimeout(onAbort, this.#timeoutMs)
      signal?.addEventListener('abort', onAbort, { once: true })
      waiters.add(done)
    })
  }

  readonly #onConnectionOpen = (evt: CustomEvent<Connection>) => this.#greetOrWatch(evt.detail)

  readonly #onConnectionClose = (evt: CustomEvent<Connection>) => {
    clearTimeout(this.#inboundDeadlines.get(evt.detail.id))
    this.#inboundDeadlines.delete(evt.detail.id)
  }

  readonly #onPeerDisconnect = (evt: CustomEvent<PeerId>) => {
    const key = evt.detail.toString()
    this.#settle(key, false)
    if (this.#verified.delete(key)) this.safeDispatchEvent('peer:disconnect', { detail: evt.detail })
  }

  /** The dialler greets; the listener waits for the greeting and drops the connection without one. */
  #greetOrWatch(connection: Connection): void {
    if (this.has(connection.remotePeer)) return
    if (connection.direction === 'outbound') {
      void this.#greet(connection)
      return
    }
    const timer = setTimeout(() => {
      this.#inboundDeadlines.delete(connection.id)
      if (!this.has(connection.remotePeer)) this.#reject(connection, 'no handshake in time')
    }, this.#timeoutMs)
    this.#inboundDeadlines.set(connection.id, timer)
  }

  async #greet(connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(this.#timeoutMs)
    try {
      // hello/2 first; a 0.1.0 peer picks hello/1 in the negotiation and so states nothing.
      const stream = await connection.newStream([this.#hello2Protocol, this.#helloProtocol], {
        ...LIMITED_OK,
        signal,
      })
      if (stream.protocol === this.#hello2Protocol) {
        this.#accept(connection, await sayHello2(stream, this.#identity.id, this.#statement, { signal }))
      } else {
        await sayHello(stream, this.#identity.id, { signal })
        this.#accept(connection, UNSTATED)
      }
    } catch (err) {
      this.#reject(connection, (err as Error).message)
    }
  }

  #accept(connection: Connection, statement: ReleaseStatement): void {
    // The handshake can finish just after its connection closed; accepting then would leave a
    // peer marked connected that never gets a disconnect event.
    if (this.#stopping || connection.status !== 'open') return
    const peer = connection.remotePeer
    const key = peer.toString()
    this.safeDispatchEvent('peer:stated', { detail: { peer, statement } })
    if (!this.#verified.has(key)) {
      this.#verified.set(key, peer)
      this.safeDispatchEvent('peer:connect', { detail: peer })
    }
    this.#settle(key, true)
  }

  #reject(connection: Connection, reason: string): void {
    const peer = connection.remotePeer
    // Stopping closes every connection mid-handshake, and a peer verified over another
    // connection stays trusted: neither is a rejection.
    if (this.#stopping || this.has(peer)) return
    this.#settle(peer.toString(), false)
    connection.abort(new Error(`handshake failed: ${reason}`))
    this.safeDispatchEvent('peer:rejected', { detail: { peer, reason } })
  }

  #settle(key: string, verified: boolean): void {
    for (const done of [...(this.#waiters.get(key) ?? [])]) done(verified)
  }
}

export function createPeerBook(
  libp2p: Libp2p,
  identity: NetworkIdentity,
  init: PeerBookInit = {},
): StartablePeerBook {
  return new DefaultPeerBook(libp2p, identity, init)
}
