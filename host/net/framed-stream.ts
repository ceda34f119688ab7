/**
 * Length-prefixed frames on a libp2p stream: libp2p's own `lpStream`, with a length reader that
 * makes no error object per frame. `lpStream` reads a frame's varint length a byte at a time and
 * reads on while the decoder throws a RangeError; the stock decoder's throw builds a new error, its
 * stack taken from optimized frames, for every frame of 128 bytes or more (2.8% of a runner's CPU
 * under one-token requests, `perf`). It also read on without end through a length that never ends.
 */
import type { MessageStream } from '@libp2p/interface'
import { type LengthPrefixedStream, type LengthPrefixedStreamOpts, lpStream } from '@libp2p/utils'

/** What lpStream hands a length reader: the bytes read so far. */
type LengthBytes = Parameters<LengthPrefixedStreamOpts['lengthDecoder']>[0]

/** A length longer than this many bytes is no length: 8 varint bytes already reach 2^56. */
const MAX_LENGTH_BYTES = 8

/** Thrown while a length's bytes are still arriving: one instance, so nothing is built per frame. */
const NOT_YET = new RangeError('a frame length has not all arrived')

export class FrameLengthError extends Error {
  override readonly name = 'FrameLengthError'
}

/** A frame's length from the varint at the front of `bytes`; throws `NOT_YET` when it has not ended. */
export function frameLength(bytes: LengthBytes | Uint8Array): number {
  const have = Math.min(bytes.byteLength, MAX_LENGTH_BYTES)
  let length = 0
  let scale = 1
  for (let i = 0; i < have; i++) {
    const byte = bytes instanceof Uint8Array ? bytes[i]! : bytes.get(i)
    length += (byte & 0x7f) * scale
    if (byte < 0x80) return length
    scale *= 128
  }
  if (have === MAX_LENGTH_BYTES)
    throw new FrameLengthError(`a frame length ran past ${MAX_LENGTH_BYTES} bytes`)
  throw NOT_YET
}

export function framedStream<S extends MessageStream>(
  stream: S,
  opts: Partial<Omit<LengthPrefixedStreamOpts, 'lengthDecoder'>> = {},
): LengthPrefixedStream<S> {
  return lpStream(stream, { ...opts, lengthDecoder: frameLength })
}
