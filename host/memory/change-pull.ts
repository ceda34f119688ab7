/**
 * Pulls another holder's writes of a shard into this copy, a page at a time, oldest first: how a copy
 * catches up, and how replica repair fetches a time range that differs.
 */
import type { AskHolder } from './memory-rpc.ts'
import type { MemoryRequest } from './memory-wire.ts'
import type { KnownCollection, ShardHoldings } from './shard-holdings.ts'

const CHANGES_PAGE = 1000

export interface PullRange {
  /** The writes after this (updated_at, id)… */
  after: { updated_at: number; id: string }
  /** …and made before this (default: all). */
  before?: number
}

/** Answers how many pulled writes changed this copy (last-writer-wins makes an older one a no-op). */
export async function pullChanges(
  from: { ask: AskHolder; agent: string },
  into: { holdings: ShardHoldings; known: KnownCollection; shard: number },
  range: PullRange,
  signal: AbortSignal,
): Promise<number> {
  const { holdings, known, shard } = into
  const before = range.before === undefined ? {} : { before: range.before }
  let after = range.after
  let applied = 0
  for (;;) {
    const request: MemoryRequest = {
      op: 'changes',
      collection: known.hash,
      shard,
      after,
      limit: CHANGES_PAGE,
      ...before,
    }
    const page = await from.ask(from.agent, request, signal)
    if (page.op !== 'changes') return applied
    applied += holdings.apply(known, shard, page.writes)
    const last = page.writes.at(-1)
    if (last === undefined || page.writes.length < CHANGES_PAGE) return applied
    after = { updated_at: last.updated_at, id: last.id }
  }
}
