/**
 * Request/response over libp2p protocols, for anti-entropy catch-up ("what I have" summaries,
 * then the missing ops) and any other ask-a-peer exchange.
 *
 * Wire: each request and each response is one length-prefixed frame; a response starts with a
 * status byte. A stream carries many request/response pairs in turn: an idle stream is kept per
 * peer and protocol and reused, which is ~10x faster than opening a stream per request.
 */
import {
  type Connection,
  type Libp2p,
  type PeerId,
  type Stream,
  UnsupportedProtocolError,
} from '@libp2p/interface'
import { type LengthPrefixedStream, UnexpectedEOFError } from '@libp2p/utils'
import type { MeshVersions } from '../interface/release.ts'
import {
  NotAMemberError,
  PeerUnreachableError,
  RemoteHandlerError,
  RequestRefusedError,
  RequestTimeoutError,
} from './errors.ts'
import { dialMember, type FindMember } from './member-dial.ts'
import type { MemberGate } from './member-gate.ts'
import type { NetworkIdentity } from './network-identity.ts'
import { PeerActivity, type Use } from './peer-activity.ts'
import { LIMITED_OK, type PeerBook } from './peer-book.ts'
import { versionRefusal } from './protocol-versions.ts'
import {
  checkSize,
  frames,
  isUsable,
  MAX_MESSAGE_BYTES,
  response,
  STATUS_HANDLER_ERROR,
  STATUS_OK,
  STATUS_REFUSED,
} from './request-wire.ts'

export { MAX_MESSAGE_BYTES }

export type RequestHandler = (request: Uint8Array, peer: PeerId) => Promise<Uint8Array>

export interface RequestOptions {
  /** Aborting rejects with the signal's reason. */
  signal?: AbortSignal
  /** Overrides the default timeout; on expiry the request rejects with RequestTimeoutError. */
  timeoutMs?: number
  /** The protocol is served to every peer of the network (replication's, admission's): no member check. */
  openToNetwork?: boolean
}

export interface HandleOptions {
  /**
   * Serve every verified peer of the network, members or not: replication, which is how a newcomer's
   * genesis (its membership) reaches the mesh, and admission, which witnesses it. Default: members only.
   */
  openToNetwork?: boolean
  /**
   * What an exchange on it, asked or answered, is to the peer's connection (peer-activity.ts `Use`):
   * 'brief' (a record pushed or read), 'upkeep' (anti-entropy, peer exchange). Default: 'request'.
   */
  use?: Use
}

export interface RequestResponse {
  /** Serve `protocolSuffix` (e.g. `memory/1.0.0`) to members of this mesh (see HandleOptions). */
  handle(protocolSuffix: string, handler: RequestHandler, options?: HandleOptions): Promise<void>
  unhandle(protocolSuffix: string): Promise<void>
  /**
   * Rejects with PeerUnreachableError (or its subclass RequestTimeoutError), RequestRefusedError
   * (peer on another network, or not serving the protocol; NotAMemberError, before anything is sent,
   * when the member gate does not admit it, unless `openToNetwork`), RemoteHandlerError, or
   * MessageTooLargeError (request over MAX_MESSAGE_BYTES, before anything is sent).
   */
  request(
    peer: PeerId,
    protocolSuffix: string,
    request: Uint8Array,
    options?: RequestOptions,
  ): Promise<Uint8Array>
}

export interface RequestResponseInit {
  /** Default per-request timeout. */
  timeoutMs?: number
  /** Whether an open connection may carry requests yet (a fresh WebRTC one may not); default: all. */
  usable?: (connection: Connection) => boolean
  /** What each peer's hello said: a refusal for want of a protocol version names its release. */
  versions?: Pick<MeshVersions, 'of'>
  /** Where a member this peer knows no working address of is found (its heartbeats, the directory). */
  find?: FindMember
}

export interface StoppableRequestResponse extends RequestResponse {
  /** Drops the idle streams; handlers stay registered, so the node can start again. */
  stop(): void
  /**
   * Now while work with `peer` is in flight (a request, or a raw stream marked with `working`), else
   * when the last use (upkeep aside) ended; undefined: none since this peer connected.
   */
  lastActiveAt(peer: PeerId): number | undefined
  /** Whether a 'request' use with `peer` (peer-activity.ts) ended since it connected. */
  asked(peer: PeerId): boolean
  /** Marks work with `peer` outside this service (peer-streams.ts's streams) begun; call the result when it ends. */
  working(peer: PeerId): () => void
  /** Whether streams of `protocol` are this service's (kept open between requests: idle, not work). */
  carries(protocol: string): boolean
}

/** `request`'s timeout, by default. */
export const REQUEST_TIMEOUT_MS = 10_000
/** Stream limits per connection and protocol; libp2p's defaults are lower. */
const MAX_STREAMS = 64
/** Idle streams kept per peer and protocol; more concurrent requests open (then close) more. */
const MAX_IDLE_STREAMS = 4

interface Channel {
  stream: Stream
  lp: LengthPrefixedStream<Stream>
}

class DefaultRequestResponse implements StoppableRequestResponse {
  readonly #idle = new Map<string, Channel[]>()
  readonly #activity = new PeerActivity()
  /** Protocols handled or asked on (suffixes): a handful, never per peer. */
  readonly #suffixes = new Set<string>()
  /** Of those, the ones handled as other than a 'request' use (HandleOptions). */
  readonly #uses = new Map<string, Use>()
  readonly #timeoutMs: number
  readonly #usable: (connection: Connection) => boolean
  readonly #versions: Pick<MeshVersions, 'of'> | undefined
  readonly #find: FindMember | undefined

  readonly #libp2p: Libp2p
  readonly #identity: NetworkIdentity
  readonly #peers: PeerBook
  readonly #gate: MemberGate

  constructor(
    libp2p: Libp2p,
    identity: NetworkIdentity,
    peers: PeerBook,
    gate: MemberGate,
    init: RequestResponseInit,
  ) {
    this.#libp2p = libp2p
    this.#identity = identity
    this.#peers = peers
    this.#gate = gate
    this.#timeoutMs = init.timeoutMs ?? REQUEST_TIMEOUT_MS
    this.#usable = init.usable ?? (() => true)
    this.#versions = init.versions
    this.#find = init.find
    peers.addEventListener('peer:disconnect', this.#onPeerDisconnect)
  }

  async handle(protocolSuffix: string, handler: RequestHandler, options: HandleOptions = {}): Promise<void> {
    this.#suffixes.add(protocolSuffix)
    const use = options.use ?? 'request'
    if (use !== 'request') this.#uses.set(protocolSuffix, use)
    const admits = options.openToNetwork === true ? null : protocolSuffix
    await this.#libp2p.handle(
      this.#identity.protocol(protocolSuffix),
      (stream, connection) => this.#serve(stream, connection.remotePeer, handler, admits, use),
      { ...LIMITED_OK, maxInboundStreams: MAX_STREAMS, maxOutboundStreams: MAX_STREAMS },
    )
  }

  async unhandle(protocolSuffix: string): Promise<void> {
    await this.#libp2p.unhandle(this.#identity.protocol(protocolSuffix))
  }

  async request(
    peer: PeerId,
    protocolSuffix: string,
    request: Uint8Array,
    options: RequestOptions = {},
  ): Promise<Uint8Array> {
    const done = this.#activity.begin(peer, this.#uses.get(protocolSuffix))
    try {
      return await this.#request(peer, protocolSuffix, request, options)
    } finally {
      done()
    }
  }

  lastActiveAt(peer: PeerId): number | undefined {
    return this.#activity.lastActiveAt(peer)
  }

  asked(peer: PeerId): boolean {
    return this.#activity.asked(peer)
  }

  working(peer: PeerId): () => void {
    return this.#activity.begin(peer)
  }

  carries(protocol: string): boolean {
    const prefix = this.#identity.protocol('')
    return protocol.startsWith(prefix) && this.#suffixes.has(protocol.slice(prefix.length))
  }

  async #request(
    peer: PeerId,
    protocolSuffix: string,
    request: Uint8Array,
    options: RequestOptions = {},
  ): Promise<Uint8Array> {
    this.#suffixes.add(protocolSuffix)
    checkSize(request)
    // Asked of members only, as it is answered: a request carries content (a signal, a memory page).
    if (options.openToNetwork !== true) {
      const why = await this.#gate.sendRefusal(peer, protocolSuffix)
      if (why !== null) throw new NotAMemberError(peer, why)
    }
    const protocol = this.#identity.protocol(protocolSuffix)
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
    const key = `${peer}\n${protocol}`
    try {
      const reused = this.#takeIdle(key)
      if (reused !== undefined) {
        try {
          return await this.#exchange(key, reused, peer, request, signal)
        } catch (err) {
          // An idle stream may have been closed under us (inactivity, a reset); only that case
          // earns a second try, on a fresh stream.
          if (signal.aborted || err instanceof RemoteHandlerError || err instanceof RequestRefusedError) {
            throw err
          }
        }
      }
      const channel = await this.#open(peer, protocolSuffix, signal)
      return await this.#exchange(key, channel, peer, request, signal)
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason
      if (timeout.aborted) throw new RequestTimeoutError(peer, timeoutMs)
      if (
        err instanceof PeerUnreachableError ||
        err instanceof RequestRefusedError ||
        err instanceof RemoteHandlerError
      ) {
        throw err
      }
      throw new PeerUnreachableError(peer, (err as Error).message, { cause: err })
    }
  }

  stop(): void {
    for (const channels of this.#idle.values()) {
      for (const { stream } of channels) stream.abort(new Error('request-response stopped'))
    }
    this.#idle.clear()
  }

  async #open(peer: PeerId, protocolSuffix: string, signal: AbortSignal): Promise<Channel> {
    const protocol = this.#identity.protocol(protocolSuffix)
    // An open connection is used as it is, relayed ones too: libp2p would dial again for a peer it
    // only reaches through a relay, and a dial that tries WebRTC behind a NAT it cannot cross hangs.
    let connection = bestConnection(this.#libp2p.getConnections(peer).filter(this.#usable))
    if (connection === undefined) {
      try {
        connection = await dialMember(this.#libp2p, peer, signal, this.#find)
      } catch (err) {
        throw new PeerUnreachableError(peer, (err as Error).message, { cause: err })
      }
    }
    if (!(await this.#peers.whenVerified(peer, signal))) {
      throw new RequestRefusedError(peer, 'not a peer of this network')
    }
    try {
      const stream = await connection.newStream(protocol, { ...LIMITED_OK, signal })
      return { stream, lp: frames(stream) }
    } catch (err) {
      if (err instanceof UnsupportedProtocolError) {
        throw await versionRefusal(this.#libp2p, this.#identity, this.#versions, peer, [protocolSuffix])
      }
      throw err
    }
  }

  async #exchange(
    key: string,
    channel: Channel,
    peer: PeerId,
    request: Uint8Array,
    signal: AbortSignal,
  ): Promise<Uint8Array> {
    let frame: Uint8Array
    try {
      await channel.lp.write(request, { signal })
      frame = (await channel.lp.read({ signal })).subarray()
    } catch (err) {
      // A late response would be read as the answer to the next request: never reuse this stream.
      channel.stream.abort(err as Error)
      throw err
    }
    const body = frame.subarray(1)
    if (frame[0] === STATUS_REFUSED) {
      channel.stream.abort(new Error('refused'))
      throw new RequestRefusedError(peer, new TextDecoder().decode(body))
    }
    this.#release(key, channel)
    if (frame[0] === STATUS_HANDLER_ERROR) throw new RemoteHandlerError(peer, new TextDecoder().decode(body))
    return body
  }

  #takeIdle(key: string): Channel | undefined {
    const channels = this.#idle.get(key)
    for (let channel = channels?.pop(); channel !== undefined; channel = channels?.pop()) {
      if (isUsable(channel.stream)) return channel
    }
    return undefined
  }

  #release(key: string, channel: Channel): void {
    const channels = this.#idle.get(key) ?? []
    if (!isUsable(channel.stream) || channels.length >= MAX_IDLE_STREAMS) {
      void channel.stream.close().catch((err: Error) => channel.stream.abort(err))
      return
    }
    channels.push(channel)
    this.#idle.set(key, channels)
  }

  /**
   * Answers requests on one inbound stream until the requester closes it. `membersOf`: the protocol
   * whose requests only members may make (null: any peer of the network).
   */
  async #serve(
    stream: Stream,
    peer: PeerId,
    handler: RequestHandler,
    membersOf: string | null,
    use: Use,
  ): Promise<void> {
    const lp = frames(stream)
    try {
      while (true) {
        const request = (await lp.read()).subarray()
        const why = !(await this.#peers.whenVerified(peer))
          ? 'not a peer of this network'
          : await this.#membership(peer, membersOf)
        if (why !== null) {
          await lp.write(response(STATUS_REFUSED, new TextEncoder().encode(why)))
          await stream.close()
          return
        }
        const done = this.#activity.begin(peer, use)
        try {
          const body = await handler(request, peer)
          checkSize(body)
          await lp.write(response(STATUS_OK, body))
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err)
          await lp.write(response(STATUS_HANDLER_ERROR, new TextEncoder().encode(message)))
        } finally {
          done()
        }
      }
    } catch (err) {
      if (err instanceof UnexpectedEOFError) await stream.close().catch(() => {})
      else stream.abort(err as Error)
    }
  }

  /** Null when `peer` may ask on `protocol` (null: any peer of the network may); otherwise why not. */
  async #membership(peer: PeerId, protocol: string | null): Promise<string | null> {
    if (protocol === null) return null
    const why = await this.#gate.refusal(peer, protocol)
    return why === null ? null : `not a member of this mesh: ${why}`
  }

  readonly #onPeerDisconnect = (evt: CustomEvent<PeerId>) => {
    const prefix = `${evt.detail}\n`
    for (const key of this.#idle.keys()) if (key.startsWith(prefix)) this.#idle.delete(key)
    this.#activity.forget(evt.detail)
  }
}

/** An open connection, unlimited ones (direct) before relayed ones. */
function bestConnection(connections: Connection[]): Connection | undefined {
  const open = connections.filter((c) => c.status === 'open')
  return open.find((c) => c.limits === undefined) ?? open[0]
}

export function createRequestResponse(
  libp2p: Libp2p,
  identity: NetworkIdentity,
  peers: PeerBook,
  gate: MemberGate,
  init: RequestResponseInit = {},
): StoppableRequestResponse {
  return new DefaultRequestResponse(libp2p, identity, peers, gate, init)
}
