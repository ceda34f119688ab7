/**
 * Errors of the peer-to-peer layer. Callers (anti-entropy, the API) branch on the class: an
 * unreachable peer is skipped and retried later, a refusal means the peer is not one of ours.
 */
import type { PeerId } from '@libp2p/interface'

/** The peer could not be dialled, or its connection died before it answered. */
export class PeerUnreachableError extends Error {
  static override readonly name: string = 'PeerUnreachableError'
  constructor(
    readonly peer: PeerId,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`peer ${peer} unreachable: ${message || 'the connection ended'}`, options)
    this.name = 'PeerUnreachableError'
  }
}

/**
 * The peer did not answer in time. A subclass of PeerUnreachableError because, for catch-up, a peer
 * that does not answer is as good as gone.
 */
export class RequestTimeoutError extends PeerUnreachableError {
  static override readonly name = 'RequestTimeoutError'
  constructor(peer: PeerId, timeoutMs: number) {
    super(peer, `no answer within ${timeoutMs} ms`)
    this.name = 'RequestTimeoutError'
  }
}

/** The peer is reachable but is not on this network (or does not serve the protocol). */
export class RequestRefusedError extends Error {
  static override readonly name: string = 'RequestRefusedError'
  constructor(
    readonly peer: PeerId,
    readonly reason: string,
  ) {
    super(`peer ${peer} refused the request: ${reason}`)
    this.name = 'RequestRefusedError'
  }
}

/**
 * Nothing was sent: `peer` is not a member of this mesh (the member gate's reason), and a protocol that
 * carries content goes to members only, as it is served to members only.
 */
export class NotAMemberError extends RequestRefusedError {
  static override readonly name = 'NotAMemberError'
  constructor(peer: PeerId, why: string) {
    super(peer, `not a member of this mesh: ${why}`)
    this.message = `nothing sent to peer ${peer}: it is not a member of this mesh: ${why}`
    this.name = 'NotAMemberError'
  }
}

/** The peer's handler threw; its message is carried back. */
export class RemoteHandlerError extends Error {
  static override readonly name = 'RemoteHandlerError'
  constructor(
    readonly peer: PeerId,
    readonly remoteMessage: string,
  ) {
    super(`peer ${peer} failed to handle the request: ${remoteMessage}`)
    this.name = 'RemoteHandlerError'
  }
}

/** A request or response frame over MAX_MESSAGE_BYTES: split the batch. */
export class MessageTooLargeError extends Error {
  static override readonly name = 'MessageTooLargeError'
  constructor(bytes: number, limit: number) {
    super(`message of ${bytes} bytes exceeds the ${limit}-byte limit`)
    this.name = 'MessageTooLargeError'
  }
}

/** The network has no libp2p section (a Holochain-backed network). */
export class NotAnEmbeddedNetworkError extends Error {
  static override readonly name = 'NotAnEmbeddedNetworkError'
  constructor(network: string) {
    super(`network "${network}" has no libp2p section: it is not an embedded network`)
    this.name = 'NotAnEmbeddedNetworkError'
  }
}
