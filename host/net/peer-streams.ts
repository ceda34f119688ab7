/**
 * Raw byte streams to members of this mesh, for protocols that carry someone else's bytes (the
 * split's RPC tunnel, direct requests): the protocol id carries the network's identity, the peer's
 * handshake proved it is of this network, and the member gate admits its agent before the handler
 * starts anything; then bytes both ways until either side closes. A handler that fails closes its
 * stream with the reason logged, never the daemon. The gate holds both ways: a stream is opened only
 * to a member, so no byte of a prompt or a tunnel reaches a peer that could not have been served.
 */
import { type Libp2p, type PeerId, type Stream, UnsupportedProtocolError } from '@libp2p/interface'
import type { MeshVersions } from '../interface/release.ts'
import type { Logger } from '../log/logger.ts'
import { NotAMemberError, PeerUnreachableError, RequestRefusedError } from './errors.ts'
import { dialMember, type FindMember } from './member-dial.ts'
import type { MemberGate } from './member-gate.ts'
import type { NetworkIdentity } from './network-identity.ts'
import { LIMITED_OK, type PeerBook } from './peer-book.ts'
import { versionRefusal } from './protocol-versions.ts'

export type StreamHandler = (stream: Stream, peer: PeerId) => void | Promise<void>

export interface PeerStreams {
  /** Serves `protocolSuffix` to members of this mesh; others' streams are reset. */
  handle(protocolSuffix: string, handler: StreamHandler): Promise<void>
  unhandle(protocolSuffix: string): Promise<void>
  /**
   * A stream to member `peer` (dialled if need be) on the first of `protocolSuffixes` it serves (the
   * stream's `protocol` says which); rejects with PeerUnreachableError or RequestRefusedError
   * (NotAMemberError, before any dial, when the gate does not admit `peer`).
   */
  open(peer: PeerId, protocolSuffixes: string | readonly string[], signal?: AbortSignal): Promise<Stream>
}

// A tunnel is idle between requests for as long as the model stays loaded.
const NO_INACTIVITY_TIMEOUT = 0
/**
 * Streams of one protocol open at once on a connection; libp2p's default is 32, and a stream past it
 * is reset. A direct request's stream stays open until its runner's window is signed (a second on the
 * grid, and the signing), so a requester sending N requests a second to one runner holds about N open:
 * at 256 a busy pair (200 one-token requests a second, measured) met resets.
 */
export const MAX_STREAMS = 1024

export function createPeerStreams(
  libp2p: Libp2p,
  identity: NetworkIdentity,
  peers: PeerBook,
  gate: MemberGate,
  logger?: Logger,
  /** What each peer's hello said: a refusal for want of a protocol version names its release. */
  versions?: Pick<MeshVersions, 'of'>,
  /** Where a member this peer knows no working address of is found (its heartbeats, the directory). */
  find?: FindMember,
  /** Marks a stream's peer in use while it is open (the connection trimmer reads it). */
  working?: (peer: PeerId) => () => void,
): PeerStreams {
  const inUse = (stream: Stream, peer: PeerId) => {
    if (working === undefined) return
    stream.addEventListener('close', working(peer), { once: true })
  }
  return {
    async handle(protocolSuffix, handler) {
      await libp2p.handle(
        identity.protocol(protocolSuffix),
        async (stream, connection) => {
          const peer = connection.remotePeer
          if (!(await peers.whenVerified(peer))) {
            stream.abort(new Error('not a peer of this network'))
            return
          }
          const why = await gate.refusal(peer, protocolSuffix)
          if (why !== null) {
            stream.abort(new Error(`not a member of this mesh: ${why}`))
            return
          }
          stream.inactivityTimeout = NO_INACTIVITY_TIMEOUT
          inUse(stream, peer)
          try {
            await handler(stream, peer)
          } catch (err) {
            logger?.warn({ peer: peer.toString(), protocol: protocolSuffix, err }, 'a stream handler failed')
            stream.abort(err as Error)
          }
        },
        { ...LIMITED_OK, maxInboundStreams: MAX_STREAMS, maxOutboundStreams: MAX_STREAMS },
      )
    },
    async unhandle(protocolSuffix) {
      await libp2p.unhandle(identity.protocol(protocolSuffix))
    },
    async open(peer, protocolSuffixes, signal) {
      const suffixes = typeof protocolSuffixes === 'string' ? [protocolSuffixes] : protocolSuffixes
      const why = await gate.sendRefusal(peer, suffixes.join(','))
      if (why !== null) throw new NotAMemberError(peer, why)
      let stream: Stream
      try {
        const connection =
          libp2p.getConnections(peer).find((c) => c.status === 'open') ??
          (await dialMember(libp2p, peer, signal, find))
        if (!(await peers.whenVerified(peer, signal)))
          throw new RequestRefusedError(peer, 'not a peer of this network')
        stream = await connection.newStream(suffixes.map(identity.protocol), {
          ...LIMITED_OK,
          maxOutboundStreams: MAX_STREAMS,
          signal,
        })
      } catch (err) {
        if (err instanceof RequestRefusedError) throw err
        if (err instanceof UnsupportedProtocolError)
          throw await versionRefusal(libp2p, identity, versions, peer, suffixes)
        throw new PeerUnreachableError(peer, (err as Error).message, { cause: err })
      }
      stream.inactivityTimeout = NO_INACTIVITY_TIMEOUT
      inUse(stream, peer)
      return stream
    },
  }
}
