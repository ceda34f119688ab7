/**
 * Request/response's wire (request-response.ts): each request and each response one length-prefixed
 * frame on a stream, a response's first byte its status.
 */
import type { Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { MessageTooLargeError } from './errors.ts'
import { framedStream } from './framed-stream.ts'

export const STATUS_OK = 0
export const STATUS_HANDLER_ERROR = 1
export const STATUS_REFUSED = 2
/** Largest request or response frame: callers batch catch-up ops below this. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024

export function frames(stream: Stream): LengthPrefixedStream<Stream> {
  return framedStream(stream, { maxDataLength: MAX_MESSAGE_BYTES, maxBufferSize: MAX_MESSAGE_BYTES + 16 })
}

/** The status byte counts too, so a frame never exceeds what the other side accepts. */
export function checkSize(body: Uint8Array): void {
  if (body.length + 1 > MAX_MESSAGE_BYTES) throw new MessageTooLargeError(body.length, MAX_MESSAGE_BYTES - 1)
}

export function isUsable(stream: Stream): boolean {
  return (
    stream.status === 'open' && stream.writeStatus === 'writable' && stream.remoteWriteStatus === 'writable'
  )
}

export function response(status: number, body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(body.length + 1)
  frame[0] = status
  frame.set(body, 1)
  return frame
}
