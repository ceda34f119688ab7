import { describe, expect, it } from 'vitest'
import { alignRows, formatTable } from '../../../host/cli/human-format.ts'
import { inertJson, printable, printableText } from '../../../host/text/printable.ts'

/** Every character a terminal acts on: C0, DEL, C1 and the bidi controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: what the test looks for
const TERMINAL_ACTS_ON = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u

describe('printable', () => {
  it.each([
    [
      'plain text and other scripts stay as they are',
      'élise-ワークステーション ™',
      'élise-ワークステーション ™',
    ],
    ['an escape sequence becomes visible', '\u001b[2Jx', '\\x1b[2Jx'],
    ['line breaks and tabs are escaped on one line', 'a\nb\r\tc', 'a\\nb\\r\\tc'],
    ['DEL and a C1 CSI', 'a\u007fb\u009bc', 'a\\x7fb\\x9bc'],
    ['bidi overrides and isolates', 'a\u202eb\u2066c\u200fd', 'a\\u{202e}b\\u{2066}c\\u{200f}d'],
  ])('%s', (_, input, want) => {
    expect(printable(input)).toBe(want)
    expect(printable(input)).not.toMatch(TERMINAL_ACTS_ON)
  })

  it('printableText keeps lines and tabs but escapes the rest', () => {
    expect(printableText('one\r\n\ttwo\u001b[1A\nthree\rX')).toBe('one\\r\n\ttwo\\x1b[1A\nthree\\rX')
  })

  it('inertJson keeps the JSON the same value and inert in a terminal', () => {
    const line = `${JSON.stringify({ msg: 'warrant', reason: 'a\u009b2J\u202eb\u007f\u001b' })}\n`
    const safe = inertJson(line)
    expect(safe.endsWith('}\n')).toBe(true)
    expect(safe.slice(0, -1)).not.toMatch(TERMINAL_ACTS_ON)
    expect(JSON.parse(safe)).toEqual(JSON.parse(line))
  })
})

describe('printers escape every cell', () => {
  const fakeSelf = 'mallory\nuhCAkFAKE000… (self)  honest  online'

  it('a table cannot gain a row or a cursor move from a cell', () => {
    const out = formatTable(
      ['AGENT', 'NAME'],
      [
        ['uhCAkREAL000… (self)', 'a'],
        ['uhCAkMALLORY…', `\u001b[2J${fakeSelf}`],
      ],
    )
    expect(out.split('\n')).toHaveLength(3)
    for (const line of out.split('\n')) expect(line).not.toMatch(TERMINAL_ACTS_ON)
    expect(out.split('\n').filter((l) => l.includes('(self)') && l.startsWith('uhCAkFAKE'))).toEqual([])
  })

  it('aligned rows keep one line per row', () => {
    const out = alignRows([
      ['name', fakeSelf],
      ['tags', 'gpu'],
    ])
    expect(out.split('\n')).toHaveLength(2)
    for (const line of out.split('\n')) expect(line).not.toMatch(TERMINAL_ACTS_ON)
  })
})
