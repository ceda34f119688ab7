/**
 * Usage by agent session (issue 58, point 4): this peer's own requests are counted by the coding
 * agent's session its note names, summed by session for `/api/usage?by=session` and `ripple usage --by
 * session`; an hour splits by at most MAX_SESSIONS_PER_HOUR sessions (the rest counted without one);
 * what other members are answered leaves sessions out; a restart gives them back from usage.json
 * where the counts agree.
 */
import { describe, expect, it } from 'vitest'
import { sessionTable } from '../../../host/cli/commands/usage-command.ts'
import { sessionTotals } from '../../../host/usage/session-usage.ts'
import { MAX_SESSIONS_PER_HOUR, UsageIndex } from '../../../host/usage/usage-index.ts'
import { reconcile } from '../../../host/usage/usage-rebuild.ts'
import { servedEvents, type UsageEvent, type UsageNote } from '../../../host/usage/usage-totals.ts'
import type { ServedLeaf } from '../../../zomes-bindings/index.ts'

const T0 = Date.parse('2026-11-25T04:00:00Z')
const HOUR = 3_600_000
const RUNNER = `uhCAk${'r'.repeat(48)}`
const event = (over: Partial<UsageEvent>): UsageEvent => ({
  direction: 'used',
  member: RUNNER,
  key: 'k1',
  model: 'm',
  at: (T0 + 60_000) * 1000,
  tokensIn: 10,
  tokensOut: 5,
  reasoning: 0,
  busyS: 0.5,
  ok: true,
  ...over,
})

describe('usage by agent session', () => {
  it('a request noted with its session is counted under it', () => {
    const leaf = (request: string): ServedLeaf => ({
      request,
      runner: RUNNER,
      model: 'tiny',
      proof: null,
      output_hash: 'c'.repeat(64),
      accepted: true,
      reason: '',
    })
    const notes: Record<string, UsageNote> = {
      ['a'.repeat(64)]: { key: 'k1', reasoning: 0, session: 'claude-code:ses-1' },
      ['b'.repeat(64)]: { key: 'k1', reasoning: 0 },
    }
    const events = servedEvents([leaf('a'.repeat(64)), leaf('b'.repeat(64))], T0 * 1000, (r) => notes[r])
    expect(events.map((e) => e.session)).toEqual(['claude-code:ses-1', undefined])
  })

  const index = new UsageIndex()
  index.add([
    event({ session: 'claude-code:ses-1' }),
    event({ session: 'claude-code:ses-1', model: 'small', tokensIn: 1, tokensOut: 1 }),
    event({ session: 'claude-code:ses-1', at: (T0 + HOUR + 1) * 1000 }),
    event({ session: 'codex:t-9', key: null }),
    event({}),
  ])

  it('sums each session over its hours and models, the most recently active first', () => {
    expect(sessionTotals(index.rows())).toEqual([
      {
        session: 'claude-code:ses-1',
        key: 'k1',
        models: ['m', 'small'],
        requests: 3,
        failed: 0,
        tokens_in: 21,
        tokens_out: 11,
        reasoning_tokens: 0,
        first_hour: '2026-11-25T04:00:00.000Z',
        last_hour: '2026-11-25T05:00:00.000Z',
      },
      expect.objectContaining({ session: 'codex:t-9', key: null, requests: 1 }),
    ])
    const table = sessionTable(sessionTotals(index.rows()))
    expect(table).toMatch(/claude-code:ses-1\s+k1\s+m,small\s+3\s+0\s+21\s+11/)
    expect(sessionTable([])).toMatch(/no agent session/)
  })

  it('leaves the sessions out of what another member is answered', () => {
    const page = index.about(RUNNER, 0, 100)
    expect(page.rows.every((r) => r.session === undefined)).toBe(true)
    // The hour's rows of one model summed whatever their key and session: 2 sessions + none, one row.
    expect(page.rows.find((r) => r.model === 'm' && r.hour.startsWith('2026-11-25T04'))?.requests).toBe(3)
  })

  it('splits an hour by at most MAX_SESSIONS_PER_HOUR sessions; later ones count without one', () => {
    const bounded = new UsageIndex()
    const many = Array.from({ length: MAX_SESSIONS_PER_HOUR + 10 }, (_, i) =>
      event({ session: `codex:s${i}` }),
    )
    bounded.add(many)
    bounded.add([event({ session: 'codex:s0' })])
    const rows = bounded.rows()
    expect(new Set(rows.map((r) => r.session)).size).toBe(MAX_SESSIONS_PER_HOUR + 1)
    expect(rows.find((r) => r.session === undefined)?.requests).toBe(10)
    expect(rows.find((r) => r.session === 'codex:s0')?.requests).toBe(2)
    // The next hour has room again, and the old hour's sessions leave with its rows.
    bounded.add([event({ session: 'codex:late', at: (T0 + HOUR) * 1000 })])
    bounded.pruneBefore(T0 + HOUR)
    expect(bounded.rows().map((r) => r.session)).toEqual(['codex:late'])
  })

  it('a restart gives the sessions back from the kept rows where their counts agree', () => {
    const kept = index.rows()
    // What the leaves say: the same counts, no key and no session.
    const fromLeaves = index.about(RUNNER, 0, 100).rows
    expect(sessionTotals(reconcile(fromLeaves, kept)).map((s) => [s.session, s.requests])).toEqual([
      ['claude-code:ses-1', 3],
      ['codex:t-9', 1],
    ])
    // A file whose counts no longer agree gives nothing back: the leaves' rows stand, no session.
    const stale = kept.map((r) => ({ ...r, requests: r.requests + 1 }))
    expect(sessionTotals(reconcile(fromLeaves, stale))).toEqual([])
  })
})
