/**
 * The contract's canonical encoding: msgpack with map keys sorted and undefined fields dropped, so
 * equal content gives equal bytes whatever order a caller built it in. Actions, entries and signed
 * grants are hashed and signed over these bytes.
 */
import { decode, encode } from '@msgpack/msgpack'
import { checkDepth } from '../interface/nesting-depth.ts'

export function encodeCanonical(value: unknown): Uint8Array {
  return encode(value, { sortKeys: true, ignoreUndefined: true })
}

/**
 * Decodes msgpack, refusing (TooDeepError) a value nested deeper than MAX_WIRE_DEPTH: what peers send
 * (messages, actions, entries) is decoded here, and would otherwise throw `RangeError` wherever it is
 * used next (encoded again, validated, stringified for the rules).
 */
export function decodeMsgpack(bytes: Uint8Array): unknown {
  return checkDepth(decode(bytes), 'a msgpack value')
}
