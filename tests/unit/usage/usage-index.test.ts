/**
 * Usage rows indexed by hour and member (issue 55, point 9): each read answers what a scan and sort
 * of every row answered, walking only the hours asked for; a member's rows come a page of whole hours
 * at a time; hours leave from the oldest as they age out.
 */
import { describe, expect, it } from 'vitest'
import { lowerBound, UsageIndex } from '../../../host/usage/usage-index.ts'
import { addEvents, rowsSince, type UsageEvent, type UsageRow } from '../../../host/usage/usage-totals.ts'

const HOUR = 3_600_000
const T0 = Date.parse('2026-11-25T00:00:00Z')

/** Events over 48 hours, two members, both directions, two keys, two models; a late hour last. */
const EVENTS: UsageEvent[] = [
  ...Array.from(
    { length: 48 * 4 },
    (_, i): UsageEvent => ({
      direction: i % 3 === 0 ? 'used' : 'served',
      member: i % 2 === 0 ? 'uhCAkA' : 'uhCAkB',
      key: i % 5 === 0 ? 'k1' : null,
      model: i % 7 === 0 ? 'big' : 'small',
      at: (T0 + Math.floor(i / 4) * HOUR + 1000 * i) * 1000,
      tokensIn: i,
      tokensOut: 2,
      reasoning: 0,
      busyS: 0.25,
      ok: i % 11 !== 0,
    }),
  ),
  // A window signed late: an hour long past, after newer ones.
  {
    direction: 'served',
    member: 'uhCAkA',
    key: null,
    model: 'small',
    at: (T0 - 5 * HOUR) * 1000,
    tokensIn: 1,
    tokensOut: 1,
    reasoning: 0,
    busyS: 0,
    ok: true,
  },
]

/** The reference: the rows a map of every row totals to, scanned and sorted. */
function reference(): UsageRow[] {
  const rows = new Map<string, UsageRow>()
  addEvents(rows, EVENTS)
  return rowsSince(rows.values())
}

describe('usage index', () => {
  it.each([
    [[], 5, 0],
    [[1, 3, 5], 0, 0],
    [[1, 3, 5], 3, 1],
    [[1, 3, 5], 4, 2],
    [[1, 3, 5], 6, 3],
  ])('lowerBound(%j, %i) = %i', (list, value, at) => expect(lowerBound(list, value)).toBe(at))

  const index = new UsageIndex()
  index.add(EVENTS)
  const all = reference()

  it.each([0, T0 - 5 * HOUR + 1, T0, T0 + 30 * 60_000, T0 + 24 * HOUR, T0 + 47 * HOUR, T0 + 48 * HOUR])(
    'rows from %i: as a scan and sort of every row',
    (since) => {
      expect(index.rows(since)).toEqual(rowsSince(all, since))
    },
  )

  it.each([
    ['uhCAkA', T0 + 23 * HOUR + 59 * 60_000],
    ['uhCAkB', T0 + 47 * HOUR],
    ['uhCAkA', 0],
    ['nobody', 0],
  ])('servedTo(%s, %i): the served rows of that member from that hour', (member, since) => {
    const rows = rowsSince(all, since).filter((r) => r.direction === 'served' && r.member === member)
    expect(index.servedTo(member, since)).toEqual({
      requests: rows.reduce((n, r) => n + r.requests, 0),
      tokens: rows.reduce((n, r) => n + r.tokens_in + r.tokens_out, 0),
    })
  })

  it('acceptedFrom: per runner, the requests this peer asked and accepted', () => {
    const used = rowsSince(all, T0 + 24 * HOUR).filter((r) => r.direction === 'used')
    const expected = new Map<string, number>()
    for (const r of used) expected.set(r.member, (expected.get(r.member) ?? 0) + r.requests - r.failed)
    expect(index.acceptedFrom(T0 + 24 * HOUR)).toEqual(expected)
  })

  it.each([1, 3, 10, 1000])(
    'about: pages of at most %i rows (whole hours) add up to the member’s rows without keys',
    (limit) => {
      const pages: UsageRow[][] = []
      let from: number | null = 0
      while (from !== null) {
        const page = index.about('uhCAkA', from, limit)
        expect(page.rows.length).toBeGreaterThan(0)
        const hours = new Set(page.rows.map((r) => r.hour))
        // Over the limit only when one hour alone is.
        if (page.rows.length > limit) expect(hours.size).toBe(1)
        pages.push(page.rows)
        from = page.next
      }
      const rows = pages.flat()
      expect(rows.every((r) => r.member === 'uhCAkA' && r.key === null)).toBe(true)
      const sum = (list: UsageRow[], k: 'requests' | 'tokens_in') => list.reduce((n, r) => n + r[k], 0)
      const mine = all.filter((r) => r.member === 'uhCAkA')
      expect(sum(rows, 'requests')).toBe(sum(mine, 'requests'))
      expect(sum(rows, 'tokens_in')).toBe(sum(mine, 'tokens_in'))
      // Keys merged: no two rows of one hour, direction and model.
      expect(new Set(rows.map((r) => `${r.hour} ${r.direction} ${r.model}`)).size).toBe(rows.length)
    },
  )

  it('pruneBefore: the hours that ended before go, from every read; later ones stay', () => {
    const pruned = new UsageIndex()
    pruned.add(EVENTS)
    pruned.pruneBefore(T0 + 24 * HOUR + 1)
    expect(pruned.rows(0)).toEqual(rowsSince(all, T0 + 24 * HOUR))
    expect(pruned.size).toBe(rowsSince(all, T0 + 24 * HOUR).length)
    expect(pruned.servedTo('uhCAkA', 0)).toEqual(index.servedTo('uhCAkA', T0 + 24 * HOUR))
    expect(pruned.about('uhCAkB', 0, Number.POSITIVE_INFINITY)).toEqual(
      index.about('uhCAkB', T0 + 24 * HOUR, Number.POSITIVE_INFINITY),
    )
  })

  it('replace: the rows given, indexed alike', () => {
    const replaced = new UsageIndex()
    replaced.add([EVENTS[0]!])
    replaced.replace(all)
    expect(replaced.rows(T0 + HOUR)).toEqual(rowsSince(all, T0 + HOUR))
    expect(replaced.servedTo('uhCAkB', 0)).toEqual(index.servedTo('uhCAkB', 0))
  })
})
