/**
 * Usage totals rebuilt from the record (issue 47, point 1): at start, the rows come from this peer's
 * own signed windows (its AnswerLeaves and ServedLeaves, read back from its chain), so what it says it
 * served or used is what it signed, whatever a file says. The leaves carry no API key and no reasoning
 * tokens (this peer's notes of a request): the rows kept from before (`usage.json`) give them back for
 * each hour, direction, member and model whose counts they still match exactly; where they do not (a
 * file lost, stale or edited), the leaves' rows stand, with the key unknown. Pure.
 */
import type { ZomeOutput } from '../../zomes-bindings/index.ts'
import { addEvents, answeredEvents, rowId, servedEvents, type UsageRow } from './usage-totals.ts'

export type OwnWindows = ZomeOutput<'resource_mesh', 'list_own_windows'>

/** The rows this peer's own windows total to (no notes: key null, no reasoning tokens). */
export function rowsOfWindows(windows: OwnWindows): UsageRow[] {
  const rows = new Map<string, UsageRow>()
  const none = () => undefined
  for (const w of windows.answered) addEvents(rows, answeredEvents(w.leaves.leaves, none))
  for (const w of windows.served) addEvents(rows, servedEvents(w.leaves.leaves, w.closed_at, none))
  return [...rows.values()]
}

/** A row's group: what the leaves say, every key and session together. */
const groupOf = ({ session: _session, ...r }: UsageRow) => rowId({ ...r, key: null })

const COUNTS = ['requests', 'failed', 'tokens_in', 'tokens_out'] as const

/** The leaves' rows, each group split by key with the reasoning noted as `kept` has it where its counts agree. */
export function reconcile(fromLeaves: readonly UsageRow[], kept: readonly UsageRow[]): UsageRow[] {
  const keptByGroup = new Map<string, UsageRow[]>()
  for (const r of kept) keptByGroup.set(groupOf(r), [...(keptByGroup.get(groupOf(r)) ?? []), r])
  return fromLeaves.flatMap((leaves) => {
    const rows = keptByGroup.get(groupOf(leaves)) ?? []
    const sum = (k: (typeof COUNTS)[number] | 'busy_s') => rows.reduce((n, r) => n + r[k], 0)
    const agree =
      rows.length > 0 &&
      COUNTS.every((k) => sum(k) === leaves[k]) &&
      // Kept rounded to the millisecond.
      Math.abs(sum('busy_s') - leaves.busy_s) < 0.001 * (rows.length + 1)
    return agree ? rows.map((r) => ({ ...r })) : [leaves]
  })
}
