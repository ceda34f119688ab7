/**
 * HoloHash: Holochain's 39-byte hash format, byte for byte.
 *
 *   3-byte type prefix | 32-byte core | 4-byte DHT location
 *
 * The core is blake2b-256 of the content (for an agent: the Ed25519 public key itself). The location
 * is blake2b-128 of the core XOR-folded into 4 bytes, as in holo_hash's `holo_dht_location_bytes`.
 * Text form: 'u' + base64url without padding (multibase), as `@holochain/client` encodes it.
 */
import sodium from 'libsodium-wrappers'
import { type Blake2b, dhtLocation as locationOf, useBlake2b } from '../../zomes-bindings/common.ts'

await sodium.ready
/** libsodium's blake2b (wasm): about 10x noble's on the 32-byte cores hashed for every location. */
const blake2b: Blake2b = (bytes, length) => sodium.crypto_generichash(length, bytes, null)
// The contract's checks of hash strings too (every new hash in a zome call's input or answer).
useBlake2b(blake2b)

export type HoloHashKind = 'agent' | 'entry' | 'action' | 'dna'

const PREFIXES: Record<HoloHashKind, readonly [number, number, number]> = {
  agent: [0x84, 0x20, 0x24],
  entry: [0x84, 0x21, 0x24],
  action: [0x84, 0x29, 0x24],
  dna: [0x84, 0x2d, 0x24],
}

const PREFIX_LENGTH = 3
const CORE_LENGTH = 32
const HOLO_HASH_LENGTH = 39

/** Thrown when bytes or text that should be a HoloHash are not one (or not of the expected kind). */
export class InvalidHoloHashError extends Error {
  static override readonly name = 'InvalidHoloHashError'
  constructor(message: string) {
    super(message)
    this.name = 'InvalidHoloHashError'
  }
}

/** The 4-byte DHT location of a 32-byte core. */
export function dhtLocation(core: Uint8Array): Uint8Array {
  return locationOf(core, blake2b)
}

/** A full 39-byte HoloHash from its 32-byte core. */
export function holoHashFrom32(core: Uint8Array, kind: HoloHashKind): Uint8Array {
  if (core.length !== CORE_LENGTH)
    throw new InvalidHoloHashError(`a hash core is 32 bytes, got ${core.length}`)
  const out = new Uint8Array(HOLO_HASH_LENGTH)
  out.set(PREFIXES[kind], 0)
  out.set(core, PREFIX_LENGTH)
  out.set(dhtLocation(core), PREFIX_LENGTH + CORE_LENGTH)
  return out
}

/** Hashes content (blake2b-256) into a HoloHash of the given kind. */
export function hashContent(bytes: Uint8Array, kind: Exclude<HoloHashKind, 'agent'>): Uint8Array {
  return holoHashFrom32(blake2b(bytes, 32), kind)
}

export function core32(hash: Uint8Array): Uint8Array {
  return hash.slice(PREFIX_LENGTH, PREFIX_LENGTH + CORE_LENGTH)
}

/** The same core under another prefix (Holochain's agent-key entry hash is the key retyped). */
export function retypeHash(hash: Uint8Array, kind: HoloHashKind): Uint8Array {
  return holoHashFrom32(core32(hash), kind)
}

/** The kind of a well-formed HoloHash, or null for an unknown prefix / bad length / bad location. */
export function holoHashKind(hash: Uint8Array): HoloHashKind | null {
  if (hash.length !== HOLO_HASH_LENGTH) return null
  const kind = (Object.keys(PREFIXES) as HoloHashKind[]).find((k) =>
    PREFIXES[k].every((byte, i) => hash[i] === byte),
  )
  if (kind === undefined) return null
  const loc = dhtLocation(core32(hash))
  return loc.every((byte, i) => hash[PREFIX_LENGTH + CORE_LENGTH + i] === byte) ? kind : null
}

/** Throws unless `hash` is a valid HoloHash of one of the given kinds. */
function assertHoloHash(hash: Uint8Array, ...kinds: HoloHashKind[]): void {
  const kind = holoHashKind(hash)
  if (kind === null) throw new InvalidHoloHashError('not a valid 39-byte HoloHash')
  if (kinds.length > 0 && !kinds.includes(kind)) {
    throw new InvalidHoloHashError(`expected a ${kinds.join(' or ')} hash, got a ${kind} hash`)
  }
}

export function encodeHashB64(hash: Uint8Array): string {
  return `u${Buffer.from(hash).toString('base64url')}`
}

/** Parses a HoloHashB64 string, checking prefix, length and location (and kind when given). */
export function decodeHashB64(text: string, ...kinds: HoloHashKind[]): Uint8Array {
  if (!text.startsWith('u') || !/^u[A-Za-z0-9_-]{52}$/.test(text)) {
    throw new InvalidHoloHashError(`not a HoloHashB64 string: ${JSON.stringify(text.slice(0, 60))}`)
  }
  const hash = new Uint8Array(Buffer.from(text.slice(1), 'base64url'))
  assertHoloHash(hash, ...kinds)
  return hash
}

export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}
