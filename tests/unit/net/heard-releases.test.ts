import { describe, expect, it } from 'vitest'
import { OWN_STATEMENT, UNSTATED } from '../../../host/interface/release.ts'
import { decodeHeard, encodeHeard, HEARD_KEPT_MS } from '../../../host/net/heard-releases.ts'

const NOW = 1_800_000_000_000
const heard = [
  { agent: 'a', statement: OWN_STATEMENT, at: NOW - 1_000 },
  { agent: 'b', statement: UNSTATED, at: NOW - 2_000 },
  { agent: 'c', statement: OWN_STATEMENT, at: NOW - 3_000 },
]
const file = (statements: unknown[], entries: unknown[]) =>
  JSON.stringify({ v: 1, statements, heard: entries })

describe('the releases heard, as kept', () => {
  it('reads back what it wrote, each distinct statement written once', () => {
    const text = encodeHeard(heard)
    expect(JSON.parse(text).statements).toEqual([OWN_STATEMENT, UNSTATED])
    expect(decodeHeard(text, NOW)).toEqual({ heard, unreadable: 0 })
  })

  it.each([
    ['heard just within the limit', NOW - HEARD_KEPT_MS, ['a']],
    ['heard longer ago than the limit', NOW - HEARD_KEPT_MS - 1, []],
    ['heard later than now (the clock went back)', NOW + 60_000, ['a']],
  ])('recalls a statement %s', (_, at, agents) => {
    const decoded = decodeHeard(encodeHeard([{ agent: 'a', statement: OWN_STATEMENT, at }]), NOW)
    expect(decoded?.heard.map((h) => h.agent)).toEqual(agents)
    expect(decoded?.unreadable).toBe(0)
  })

  it.each([
    [
      'an entry naming no statement',
      file(
        [OWN_STATEMENT],
        [
          ['a', 0, NOW],
          ['b', 1, NOW],
        ],
      ),
      ['a'],
      1,
    ],
    [
      'an entry naming a statement that does not parse',
      file(
        [OWN_STATEMENT, { release: '' }],
        [
          ['a', 0, NOW],
          ['b', 1, NOW],
        ],
      ),
      ['a'],
      1,
    ],
    ['an entry of the wrong shape', file([OWN_STATEMENT], [['a', 0, NOW], ['b', 0], 'c']), ['a'], 2],
    [
      'an agent far longer than a key',
      file(
        [OWN_STATEMENT],
        [
          ['a'.repeat(129), 0, NOW],
          ['b', 0, NOW],
        ],
      ),
      ['b'],
      1,
    ],
    ['a statement left unnamed', file([OWN_STATEMENT, 7], [['a', 0, NOW]]), ['a'], 0],
  ])('drops %s alone', (_, text, agents, unreadable) => {
    const decoded = decodeHeard(text, NOW)
    expect(decoded?.heard.map((h) => h.agent)).toEqual(agents)
    expect(decoded?.unreadable).toBe(unreadable)
  })

  it.each([
    ['text that is not JSON', '{"v":1,'],
    ['another version of the record', JSON.stringify({ v: 2, statements: [], heard: [] })],
    ['JSON of another shape', '[]'],
  ])('reads nothing of %s', (_, text) => {
    expect(decodeHeard(text, NOW)).toBeNull()
  })
})
