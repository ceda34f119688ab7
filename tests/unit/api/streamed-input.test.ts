/**
 * A custom tool's input read out of its call's arguments as they stream (`{"input": "..."}`): each
 * piece hands on what can be decoded, never half an escape or half a surrogate pair, and the pieces
 * add up to the input; arguments of another shape stream nothing (their input is read whole).
 */
import { describe, expect, it } from 'vitest'
import { StreamedInput } from '../../../host/api/openai/streamed-input.ts'

const streamed = (pieces: string[]) => {
  const input = new StreamedInput()
  return pieces.map((p) => input.push(p))
}

describe('StreamedInput', () => {
  it.each([
    ['plain text in pieces', ['{"input":"*** Be', 'gin Patch', '"}'], ['*** Be', 'gin Patch', '']],
    ['the opening split, with spaces', ['{ "in', 'put" : "a', 'b"}'], ['', 'a', 'b']],
    ['an escape split', ['{"input":"line\\', 'nnext"}'], ['line', '\nnext']],
    ['a \\u escape split', ['{"input":"caf\\u00', 'e9!"}'], ['caf', 'é!']],
    ['a surrogate pair split between its halves', ['{"input":"\\ud83d', '\\ude00 ok"}'], ['', '😀 ok']],
    ['nothing after the string ends', ['{"input":"x","extra":"', 'more"}'], ['x', '']],
    ['another key first: read whole', ['{"path":"a","input":"b"}'], ['']],
    ['a raw line break (not JSON): stops', ['{"input":"a\nb', 'c"}'], ['', '']],
  ])('%s', (_, pieces, expected) => {
    expect(streamed(pieces)).toEqual(expected)
  })

  it('adds up to the input, whatever the pieces', () => {
    const text = 'Hello\n"quoted" \\ back\tslash é 😀 end'
    const json = JSON.stringify({ input: text })
    for (let size = 1; size <= 7; size++) {
      const pieces = Array.from({ length: Math.ceil(json.length / size) }, (_, i) =>
        json.slice(i * size, i * size + size),
      )
      expect(streamed(pieces).join('')).toBe(text)
    }
  })

  it('gives up on arguments that do not open with the input', () => {
    expect(streamed(['x'.repeat(65), '{"input":"a"}'])).toEqual(['', ''])
  })
})
