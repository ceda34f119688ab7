/**
 * The contract's canonical encoding: msgpack with map keys sorted and undefined fields dropped, so
 * equal content gives equal bytes whatever order a caller built it in. Actions, entries and signed
 * grants are hashed and signed over these bytes.
 */
import { decode, encode } from '@msgpack/msgpack'

export function encodeCanonical(value: unknown): Uint8Array {
  return encode(value, { sortKeys: true, ignoreUndefined: true })
}

export function decodeMsgpack(bytes: Uint8Array): unknown {
  return decode(bytes)
}
