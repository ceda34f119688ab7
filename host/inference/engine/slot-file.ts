/**
 * The tokens in a slot file llama-server saved (`/slots/<id>?action=save`): llama.cpp's sequence
 * state file (`ggsq` magic, version 3, a count of 32-bit words, then the server's packed tokens: -1,
 * its version 1, a count, the tokens) before the cache itself. Null for a file that is not one.
 */
const GGSQ = 0x67677371
const SEQ_VERSION = 3
const PACKED_VERSION = 1

export function slotFileTokens(file: Uint8Array): number[] | null {
  if (file.byteLength < 24) return null
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength)
  const word = (at: number) => view.getUint32(at * 4, true)
  if (word(0) !== GGSQ || word(1) !== SEQ_VERSION) return null
  const words = word(2)
  if (view.getInt32(12, true) !== -1 || word(4) !== PACKED_VERSION) return null
  const count = word(5)
  if (count + 3 > words || (6 + count) * 4 > file.byteLength) return null
  return Array.from({ length: count }, (_, i) => view.getInt32((6 + i) * 4, true))
}
