/**
 * Pieces shared by every DNA's contract: HoloHash strings, CIDs, timestamps, bounded text and numbers,
 * and the record shapes zome functions return.
 *
 * Every bound comes from `limits.json`, which the Rust rules (`dnas/rules/build.rs`) compile in too, so the
 * contract and the rules cannot drift apart. Text lengths count Unicode scalar values, as Rust's
 * `chars().count()` does.
 */
import { blake2b } from '@noble/hashes/blake2.js'
import { z } from 'zod'
import limits from './limits.json' with { type: 'json' }

export const LIMITS = limits

export interface Range {
  min: number
  max: number
}

/** The three type bytes that open each kind of 39-byte HoloHash. */
export const HOLO_HASH_PREFIXES = {
  agent: Uint8Array.of(0x84, 0x20, 0x24),
  entry: Uint8Array.of(0x84, 0x21, 0x24),
  action: Uint8Array.of(0x84, 0x29, 0x24),
  dna: Uint8Array.of(0x84, 0x2d, 0x24),
} as const

export type HoloHashKind = keyof typeof HOLO_HASH_PREFIXES

/** blake2b of `bytes` with a digest of `length` bytes. */
export type Blake2b = (bytes: Uint8Array, length: number) => Uint8Array

/** Portable (browsers too); the host sets libsodium's, several times faster (useBlake2b). */
let contractBlake2b: Blake2b = (bytes, length) => blake2b(bytes, { dkLen: length })

/**
 * The blake2b the contract checks hashes' locations with from now on: each hash first seen costs one,
 * and a task's round brings a dozen new ones to each peer's zome answers.
 */
export function useBlake2b(hash: Blake2b): void {
  contractBlake2b = hash
}

/** The 4 DHT location bytes of a 32-byte hash core: blake2b-128 folded by XOR. */
export function dhtLocation(core: Uint8Array, hash: Blake2b = contractBlake2b): Uint8Array {
  const h16 = hash(core, 16)
  const loc = new Uint8Array(4)
  h16.forEach((b, i) => {
    loc[i % 4]! ^= b
  })
  return loc
}

// The contract also runs in browsers (the dashboard checks the API's answers with it): Node's Buffer
// where there is one (faster on the validation path), web APIs elsewhere.
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer

function fromBase64url(text: string): Uint8Array {
  if (NodeBuffer) return NodeBuffer.from(text, 'base64url')
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  return Uint8Array.from(binary, (c) => c.charCodeAt(0))
}

function toBase64url(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes).toString('base64url')
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

function utf8Length(text: string): number {
  return NodeBuffer ? NodeBuffer.byteLength(text) : new TextEncoder().encode(text).length
}

/**
 * Strings already found to be valid hashes, per kind: the same hashes are checked again and again
 * (every record names its task, author and links), and the location check is a blake2b each time.
 */
const validHashes = new Map<HoloHashKind, Set<string>>()
const VALID_HASHES_HELD = 50_000

/** Why a string is not a HoloHashB64 of the given kind, or null when it is one. */
export function holoHashProblem(value: string, kind: HoloHashKind): string | null {
  const known = validHashes.get(kind) ?? validHashes.set(kind, new Set()).get(kind)!
  if (known.has(value)) return null
  const problem = checkHoloHash(value, kind)
  if (problem === null) {
    if (known.size >= VALID_HASHES_HELD) known.clear()
    known.add(value)
  }
  return problem
}

function checkHoloHash(value: string, kind: HoloHashKind): string | null {
  if (!value.startsWith('u')) return 'must start with "u" (base64url multibase)'
  if (!/^u[A-Za-z0-9_-]{52}$/.test(value)) return 'must be "u" followed by 52 base64url characters'
  const bytes = fromBase64url(value.slice(1))
  const prefix = HOLO_HASH_PREFIXES[kind]
  if (!prefix.every((b, i) => bytes[i] === b)) {
    return `has the wrong type prefix (${kind} hashes start with "u${toBase64url(prefix)}")`
  }
  const loc = dhtLocation(bytes.subarray(3, 35))
  if (!loc.every((b, i) => bytes[35 + i] === b)) return 'has wrong DHT location bytes'
  return null
}

function holoHash(kind: HoloHashKind) {
  return z.string().superRefine((value, ctx) => {
    const problem = holoHashProblem(value, kind)
    if (problem) ctx.addIssue({ code: 'custom', message: `${kind} hash ${problem}` })
  })
}

export const AgentPubKeyB64Schema = holoHash('agent')
export const ActionHashB64Schema = holoHash('action')
export const EntryHashB64Schema = holoHash('entry')
export const DnaHashB64Schema = holoHash('dna')
export type AgentPubKeyB64 = z.infer<typeof AgentPubKeyB64Schema>
export type ActionHashB64 = z.infer<typeof ActionHashB64Schema>
export type EntryHashB64 = z.infer<typeof EntryHashB64Schema>
export type DnaHashB64 = z.infer<typeof DnaHashB64Schema>

const CID_V0 = /^Qm[1-9A-HJ-NP-Za-km-z]{44}$/
const CID_V1 = /^ba[a-z2-7]+$/

/** A CIDv0 (base58btc "Qm...") or a CIDv1 in base32 ("ba..."), as Kubo prints them. */
export const CidSchema = z
  .string()
  .min(limits.cid.min)
  .max(limits.cid.max)
  .refine((s) => CID_V0.test(s) || CID_V1.test(s), {
    message: 'must be a CIDv0 ("Qm" + 44 base58 characters) or a base32 CIDv1 ("ba...")',
  })
export type Cid = z.infer<typeof CidSchema>

export const Sha256HexSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (sha256)')

/** Microseconds since the Unix epoch, like Holochain's `Timestamp`. */
export const TimestampSchema = z.number().int().min(limits.timestamp.min).max(limits.timestamp.max)
export type Timestamp = z.infer<typeof TimestampSchema>

export const ByteCountSchema = z.number().int().min(limits.bytes.min).max(limits.bytes.max)

function charCount(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

/** A string of `range.min..range.max` characters. */
export function text(range: Range) {
  return z.string().refine((s) => {
    const n = charCount(s)
    return n >= range.min && n <= range.max
  }, `must be ${range.min}..${range.max} characters`)
}

/**
 * Characters a terminal or an editor acts on instead of showing: C0 controls, DEL and C1 controls (escape
 * sequences can clear a screen or fake a line) and the bidirectional formatting characters that reorder
 * what is shown ("Trojan Source"). The rules' `is_control` refuses the same set.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu
/** The same set less tab and line breaks, which multi-line text may hold. */
export const CONTROL_CHARS_BUT_LINES =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu

const CONTROL_MESSAGE = 'must not contain control or bidi characters'
const hasNone = (re: RegExp) => (s: string) => s.search(re) === -1

/** A short human string shown on one line (a name, a model name): `range` characters, no control character. */
export function line(range: Range) {
  return text(range).refine(hasNone(CONTROL_CHARS), CONTROL_MESSAGE)
}

/** Text that may span lines (a reason, policy source): `range` characters, no control character but tab and line breaks. */
export function prose(range: Range) {
  return text(range).refine(hasNone(CONTROL_CHARS_BUT_LINES), CONTROL_MESSAGE)
}

/**
 * `s` made to fit a `line` (or, `multiline`, a `prose`) field of at most `max` characters: control characters
 * become U+FFFD and the rest is cut. For text this host writes from what others said (errors, reasons).
 */
export function fitText(s: string, max: number, multiline = false): string {
  const cleaned = s.replace(multiline ? CONTROL_CHARS_BUT_LINES : CONTROL_CHARS, '\ufffd')
  return [...cleaned].slice(0, max).join('')
}

/** A string of `range` characters that also matches `pattern` (described for error messages). */
export function pattern(range: Range, re: RegExp, description: string) {
  return text(range).regex(re, `must be ${description}`)
}

export const int = (range: Range) => z.number().int().min(range.min).max(range.max)
export const num = (range: Range) => z.number().min(range.min).max(range.max)
export const list = <T extends z.ZodType>(item: T, range: Range) =>
  z.array(item).min(range.min).max(range.max)

/** Any JSON value whose compact serialisation fits in `range.max` UTF-8 bytes. */
export function boundedJson(range: Range) {
  return z
    .json()
    .refine(
      (v) => utf8Length(JSON.stringify(v)) <= range.max,
      `must serialise to at most ${range.max} bytes of JSON`,
    )
}

/** Lowercase tag: letters, digits and `._:/-`, starting with a letter or digit. */
export const TagSchema = pattern(
  limits.tag,
  /^[a-z0-9][a-z0-9._:/-]*$/,
  'lowercase letters, digits and ._:/- (starting with a letter or digit)',
)
export const SlugSchema = (range: Range) =>
  pattern(
    range,
    /^[a-z0-9][a-z0-9._-]*$/,
    'lowercase letters, digits and ._- (starting with a letter or digit)',
  )
/** Dotted lowercase identifier such as `infer.generate` or `task.claim`. */
export const DottedIdSchema = (range: Range) =>
  pattern(
    range,
    /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/,
    'a dotted lowercase identifier like "infer.generate"',
  )

export const ModelNameSchema = line(limits.model_name)
export const ReasonSchema = prose(limits.reason)

/** What a zome function that writes one entry returns. */
export const RecordRefSchema = z.object({
  action_hash: ActionHashB64Schema,
  entry_hash: EntryHashB64Schema,
})
export type RecordRef = z.infer<typeof RecordRefSchema>

/** A record as zome functions return it: the action's hash, author and time, with its decoded entry. */
export function entryRecord<T extends z.ZodType>(entry: T) {
  return z.object({
    action_hash: ActionHashB64Schema,
    author: AgentPubKeyB64Schema,
    timestamp: TimestampSchema,
    entry,
  })
}
export interface EntryRecord<T> {
  action_hash: ActionHashB64
  author: AgentPubKeyB64
  timestamp: Timestamp
  entry: T
}

/** Input of zome functions that take nothing (Holochain passes `()`, i.e. null). */
export const NoInputSchema = z.null()
