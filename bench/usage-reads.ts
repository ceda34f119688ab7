/**
 * What a peer's usage reads cost as its history grows (issue 55, point 9), at 74,400 rows (100
 * members, 31 days of hours): a member's `usage/1.0.0` ask from `since: 0` and an admit's usage
 * context (what one member was served in the last hour and day), as before (every row scanned,
 * filtered and sorted: rowsSince) and now (the index by hour and member: usage-index.ts; an ask's
 * answer, its 744 rows one page of ANSWER_ROWS). Run: `npm run bench usage-reads`.
 */
import { performance } from 'node:perf_hooks'
import { rowsAbout } from '../host/usage/mesh-usage.ts'
import { ANSWER_ROWS } from '../host/usage/mesh-usage-wire.ts'
import { UsageIndex } from '../host/usage/usage-index.ts'
import { rowsSince, type UsageRow } from '../host/usage/usage-totals.ts'
import { round } from './measure.ts'
import type { BenchReport } from './report.ts'

const MEMBERS = 100
const HOURS = 31 * 24
const HOUR_MS = 3_600_000
const NOW = Date.parse('2026-11-25T12:00:00Z')
const CALLS = 50

const member = (i: number) => `uhCAkMember${i}`

function rows(): UsageRow[] {
  return Array.from({ length: HOURS }, (_, h) =>
    Array.from({ length: MEMBERS }, (_, m) => ({
      direction: 'served' as const,
      member: member(m),
      key: null,
      model: 'm',
      hour: new Date(NOW - (HOURS - h) * HOUR_MS).toISOString(),
      requests: 3,
      failed: 0,
      tokens_in: 300,
      tokens_out: 100,
      reasoning_tokens: 0,
      busy_s: 1.5,
    })),
  ).flat()
}

/** Mean ms per call, after one warm-up call. */
function perCall(call: () => unknown): number {
  call()
  const startedAt = performance.now()
  for (let i = 0; i < CALLS; i++) call()
  return (performance.now() - startedAt) / CALLS
}

/** Before: every row scanned, filtered and sorted (the ledger's rows, then the member's). */
function scanServedTo(all: UsageRow[], who: string, since: number) {
  const mine = rowsSince(all, since).filter((r) => r.direction === 'served' && r.member === who)
  return { requests: mine.reduce((n, r) => n + r.requests, 0) }
}

export default async function run(): Promise<BenchReport> {
  const all = rows()
  const index = new UsageIndex()
  index.replace(all)
  const who = member(42)
  const admitContext = (servedTo: (since: number) => unknown) => () => {
    servedTo(NOW - HOUR_MS)
    servedTo(NOW - 24 * HOUR_MS)
  }
  const figures = {
    ask_scan_ms: round(
      perCall(() => rowsAbout(rowsSince(all, 0), who)),
      3,
    ),
    ask_index_ms: round(
      perCall(() => index.about(who, 0, ANSWER_ROWS)),
      3,
    ),
    admit_scan_ms: round(perCall(admitContext((since) => scanServedTo(all, who, since))), 3),
    admit_index_ms: round(perCall(admitContext((since) => index.servedTo(who, since))), 4),
  }
  return {
    name: 'usage-reads',
    note: `${all.length} usage rows (${MEMBERS} members, ${HOURS} hours), mean of ${CALLS} calls after one, in this process`,
    rows: [
      {
        read: 'usage/1.0.0 ask, since 0',
        'before: scan and sort (ms)': figures.ask_scan_ms,
        'index (ms)': figures.ask_index_ms,
      },
      {
        read: 'admit: served in last hour and day',
        'before: scan and sort (ms)': figures.admit_scan_ms,
        'index (ms)': figures.admit_index_ms,
      },
    ],
    figures,
  }
}
