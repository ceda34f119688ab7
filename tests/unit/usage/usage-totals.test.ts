import { describe, expect, it } from 'vitest'
import { parseSince, usageTable } from '../../../host/cli/commands/usage-command.ts'
import { coverLeaf } from '../../../host/requests/direct/served-leaf.ts'
import {
  addEvents,
  rowsSince,
  servedEvents,
  type UsageEvent,
  type UsageRow,
} from '../../../host/usage/usage-totals.ts'
import { hourlyTokens } from '../../../ui/src/usage-series.ts'
import { isCoverLeaf, type ServedLeaf } from '../../../zomes-bindings/index.ts'

const HOUR = 3_600_000
const T0 = Date.parse('2026-11-25T04:00:00Z')
const event = (over: Partial<UsageEvent>): UsageEvent => ({
  direction: 'served',
  member: 'uhCAkA',
  key: null,
  model: 'm',
  at: (T0 + 60_000) * 1000,
  tokensIn: 10,
  tokensOut: 5,
  reasoning: 1,
  busyS: 0.5,
  ok: true,
  ...over,
})

describe('usage totals', () => {
  const rows = new Map<string, UsageRow>()
  addEvents(rows, [
    event({}),
    event({ tokensIn: 2, ok: false }),
    event({ at: (T0 + HOUR + 1) * 1000 }),
    event({ member: 'uhCAkB', key: 'k1', direction: 'used' }),
    event({ model: 'other' }),
  ])

  it.each([
    { since: 0, hours: ['04', '04', '04', '05'] },
    { since: T0 + HOUR + 30 * 60_000, hours: ['05'] },
  ])('groups by direction, member, key, model and hour; since $since', ({ since, hours }) => {
    expect(rowsSince(rows.values(), since).map((r) => r.hour.slice(11, 13))).toEqual(hours)
  })

  it('sums requests, failures, tokens and busy seconds in a row', () => {
    const first = rowsSince(rows.values()).find((r) => r.model === 'm' && r.direction === 'served')
    expect(first).toMatchObject({
      requests: 2,
      failed: 1,
      tokens_in: 12,
      tokens_out: 10,
      reasoning_tokens: 2,
      busy_s: 1,
    })
  })

  it('the CLI sums hours into one line per member, key and model', () => {
    const text = usageTable(rowsSince(rows.values()))
    expect(text.split('\n')).toHaveLength(1 + 3)
    expect(text).toContain('served by')
    expect(usageTable([])).toBe('no usage recorded yet')
  })

  it('the dashboard charts tokens per hour, served and used apart', () => {
    expect(
      hourlyTokens(rowsSince(rows.values())).map((b) => [b.hour.slice(11, 13), b.served, b.used]),
    ).toEqual([
      ['04', 12 + 10 + 15, 15],
      ['05', 15, 0],
    ])
  })

  it.each([
    ['24h', T0 - 24 * HOUR],
    ['2026-11-24T00:00:00Z', Date.parse('2026-11-24T00:00:00Z')],
  ])('--since %s', (value, at) => {
    expect(parseSince(value, T0)).toBe(at)
  })
  it('--since refuses what is neither a duration nor a date', () => {
    expect(() => parseSince('yesterdayish', T0)).toThrow(/duration .* or a date/)
  })
})

describe('a requester’s cover', () => {
  it('a cover leaf (a slot signed with no request) is no one’s usage; a request not accepted still is', () => {
    const self = `uhCAk${'s'.repeat(48)}`
    const asked: ServedLeaf = {
      request: 'b'.repeat(64),
      runner: `uhCAk${'r'.repeat(48)}`,
      model: 'tiny',
      proof: null,
      output_hash: 'c'.repeat(64),
      accepted: false,
      reason: 'the runner signed no record of it',
    }
    const events = servedEvents([coverLeaf(self), asked], T0 * 1000, () => undefined)
    expect(events.map((e) => [e.member, e.ok])).toEqual([[asked.runner, false]])
    expect(isCoverLeaf(coverLeaf(self))).toBe(true)
    expect(isCoverLeaf(asked)).toBe(false)
    // Two covers share nothing a bystander could recognise them by.
    const [one, two] = [coverLeaf(self), coverLeaf(self)]
    expect(one.request).not.toBe(two.request)
    expect(one.output_hash).not.toBe(two.output_hash)
  })
})
