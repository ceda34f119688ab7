/**
 * A Result's `output_hash`: sha256 of the inline output's canonical JSON (keys sorted), the form both
 * the assignee and the requester see whatever key order the worker produced, since entries travel as
 * msgpack with sorted keys. A result with no inline output hashes the empty string.
 */
import { createHash } from 'node:crypto'
import { canonicalJson } from '../../zomes-bindings/canonical-json.ts'

/** The bytes the hash covers (the canonical JSON's UTF-8; empty for no output). */
export function outputBytes(output: unknown): Buffer {
  return Buffer.from(output === null ? '' : canonicalJson(output), 'utf8')
}

export function outputHash(output: unknown): string {
  return createHash('sha256').update(outputBytes(output)).digest('hex')
}
