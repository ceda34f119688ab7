/** The tokens of a slot file llama-server saved, and which of a parked part's tokens went out. */
import { describe, expect, it } from 'vitest'
import { sentTokens } from '../../../host/inference/engine/parked-run.ts'
import { slotFileTokens } from '../../../host/inference/engine/slot-file.ts'

/** A file as llama.cpp writes it: magic, version, words, then the server's packed tokens and a cache. */
function slotFile(tokens: number[], { magic = 0x67677371, version = 3, packed = 1 } = {}): Buffer {
  const words = [-1, packed, tokens.length, ...tokens, 0]
  const file = Buffer.alloc(12 + words.length * 4 + 16)
  file.writeUInt32LE(magic, 0)
  file.writeUInt32LE(version, 4)
  file.writeUInt32LE(words.length, 8)
  words.forEach((w, i) => void file.writeInt32LE(w, 12 + i * 4))
  return file
}

describe('slotFileTokens', () => {
  it.each([
    ['a slot file', slotFile([1, 450, 3]), [1, 450, 3]],
    ['no tokens', slotFile([]), []],
    ['another magic', slotFile([1], { magic: 0x67676c61 }), null],
    ['another version', slotFile([1], { version: 2 }), null],
    ['another packing', slotFile([1], { packed: 2 }), null],
    ['junk', Buffer.from('not a slot file at all, no'), null],
    ['empty', Buffer.alloc(0), null],
    ['cut short', slotFile([1, 2, 3, 4]).subarray(0, 30), null],
  ])('%s', (_, file, tokens) => {
    expect(slotFileTokens(file)).toEqual(tokens)
  })
})

describe('sentTokens', () => {
  const trace = (sent: number, ids: [number, number][] = []) => ({ promptTokens: 2, ids: new Map(ids), sent })
  it.each([
    // The file holds the prompt (2) and the generated tokens in the cache; the last one sent is not yet.
    ['from the file', trace(2), [7, 7, 10, 11, 12], 'ab', [10, 11]],
    ['the last sent from the stream', trace(3, [[3, 13]]), [7, 7, 10, 11], 'abc', [10, 11, 13]],
    ['held back ones are not sent', trace(1), [7, 7, 10, 11, 12], 'a', [10]],
    ['none sent', trace(0), [7, 7, 10], '', []],
    ['no file: by text where an id is missing', trace(2, [[2, 11]]), null, 'ab', ['ab']],
    [
      'no file: ids the stream named',
      trace(2, [
        [1, 10],
        [2, 11],
      ]),
      null,
      'ab',
      [10, 11],
    ],
  ] as const)('%s', (_, t, saved, text, sent) => {
    expect(sentTokens(t, saved === null ? null : [...saved], text)).toEqual(sent)
  })
})
