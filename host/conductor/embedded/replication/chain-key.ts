/** Map keys for one author's chain in one DNA (ops waiting on it, fetches under way for it). */
import { encodeHashB64 } from '../../../identity/hash.ts'

/** Names one author's chain in one DNA. */
export function chainKey(dnaHash: Uint8Array, author: Uint8Array): string {
  return `${encodeHashB64(dnaHash)}|${encodeHashB64(author)}`
}
