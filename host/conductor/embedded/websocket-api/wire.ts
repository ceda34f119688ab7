/**
 * Holochain's WebSocket wire format (holochain_websocket `WireMessage`, as @holochain/client 0.20 speaks
 * it): every frame is binary msgpack `{type, id?, data}`, and `data` is a msgpack bin holding a second
 * msgpack document `{type: <snake_case tag>, value}`. Unit results carry no `value`.
 */
import { decode, encode } from '@msgpack/msgpack'

/** The variants of Holochain's `ExternalApiWireError`, as the client names its HolochainError. */
export type WireErrorVariant =
  | 'internal_error'
  | 'deserialization'
  | 'ribosome_error'
  | 'zome_call_authentication_failed'
  | 'zome_call_unauthorized'

/** A request that the conductor answers with `{type: "error", value: {type: variant, value: message}}`. */
export class ConductorApiError extends Error {
  static override readonly name = 'ConductorApiError'
  constructor(
    readonly variant: WireErrorVariant,
    message: string,
  ) {
    super(message)
    this.name = 'ConductorApiError'
  }
}

export interface InnerMessage {
  type: string
  value?: unknown
}

export type Frame =
  | { type: 'request'; id: number; data: Uint8Array }
  | { type: 'authenticate'; data: Uint8Array }
  | { type: 'other' }

/** Decodes an outer frame; null when it is not msgpack of the envelope (the conductor then says nothing). */
export function decodeFrame(bytes: Uint8Array): Frame | null {
  let outer: unknown
  try {
    outer = decode(bytes)
  } catch {
    return null
  }
  if (typeof outer !== 'object' || outer === null) return null
  const { type, id, data } = outer as Record<string, unknown>
  if (!(data instanceof Uint8Array)) return null
  if (type === 'request' && typeof id === 'number') return { type, id, data }
  if (type === 'authenticate') return { type, data }
  return { type: 'other' }
}

/** The inner `{type, value}` of a request; null when it does not decode as one. */
export function decodeInner(data: Uint8Array): InnerMessage | null {
  try {
    const inner = decode(data) as InnerMessage
    return typeof inner === 'object' && inner !== null && typeof inner.type === 'string' ? inner : null
  } catch {
    return null
  }
}

/** msgpack without `undefined` members (Rust's `Option` is nil or absent, never an unknown value). */
export function pack(value: unknown): Uint8Array {
  return encode(value, { ignoreUndefined: true })
}

export function responseFrame(id: number, inner: InnerMessage): Uint8Array {
  return pack({ type: 'response', id, data: pack(inner) })
}

export function signalFrame(inner: InnerMessage): Uint8Array {
  return pack({ type: 'signal', data: pack(inner) })
}

export function errorMessage(variant: WireErrorVariant, message: string): InnerMessage {
  return { type: 'error', value: { type: variant, value: message } }
}

/** What the conductor answers a request whose inner payload does not deserialize. */
export const DESERIALIZATION_ERROR = errorMessage('deserialization', 'Failed to deserialize request')

/** The token of an app connection's `authenticate` frame (bytes, or an array of them); null: none. */
export function tokenOf(data: Uint8Array): Uint8Array | null {
  try {
    const request = decode(data) as { token?: unknown } | null
    const token = request?.token
    if (Array.isArray(token) && token.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) {
      return Uint8Array.from(token as number[])
    }
    return token instanceof Uint8Array ? token : null
  } catch {
    return null
  }
}

/** A WebSocket message's bytes, however `ws` handed them over. */
export function toBytes(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data)
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data
}
