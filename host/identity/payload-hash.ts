/**
 * The hash a run's input (`input_hash`) or output (`output_hash`: a task's Result, a direct answer's
 * leaf) is named by: sha256 of its canonical JSON (keys sorted), the form both parties see whatever key
 * order it was written in, since entries travel as msgpack with sorted keys. No output (an error)
 * hashes the empty string. Shared by the round and the direct route.
 */
import { createHash } from 'node:crypto'
import { canonicalJson } from '../../zomes-bindings/canonical-json.ts'

/** The bytes the hash covers (the canonical JSON's UTF-8; empty for null). */
export function payloadBytes(payload: unknown): Buffer {
  return Buffer.from(payload === null ? '' : canonicalJson(payload), 'utf8')
}

export function payloadHash(payload: unknown): string {
  return payloadDigest(payload).hash
}

/** Its hash and its size in bytes, from one canonicalisation (the JSON of a large payload is costly). */
export function payloadDigest(payload: unknown): { hash: string; bytes: number } {
  const bytes = payloadBytes(payload)
  return { hash: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length }
}
