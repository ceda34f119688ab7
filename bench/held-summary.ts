/**
 * What a held-op summary costs a sharded peer after a write (issue 57): each anti-entropy exchange
 * compares the summary of the ops both peers should hold, refreshed once the store was written to.
 * The anchor plans every op's holders again from scratch (planOps, what each refresh did before: ops
 * held x members per write); HolderPlans plans only the new op while the members stay. Both then
 * filter and hash the same ops (heldByBoth, summarize), so what is left grows with the store, not
 * with the mesh. Synthetic ops (random hashes, one or two bases, an everywhere op in ten) at
 * 5,000 and 20,000 held, over 32 and 1,000 members. Run: `npm run bench held-summary`.
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import {
  HolderPlans,
  heldByBoth,
  type PlacedOp,
  planOps,
  summarize,
} from '../host/conductor/embedded/replication/neighbourhood-summary.ts'
import { DEFAULT_RECORD_HOLDERS } from '../host/config/network-schema.ts'
import { encodeHashB64, holoHashFrom32 } from '../host/identity/hash.ts'
import { round } from './measure.ts'
import type { BenchReport } from './report.ts'

const REFRESHES = 5
const R = DEFAULT_RECORD_HOLDERS

const agent = () => encodeHashB64(holoHashFrom32(new Uint8Array(randomBytes(32)), 'agent'))

function op(i: number, members: readonly string[]): PlacedOp {
  const basis = () => holoHashFrom32(new Uint8Array(randomBytes(32)), 'entry')
  return {
    hash: holoHashFrom32(new Uint8Array(randomBytes(32)), 'action'),
    bases: i % 10 === 0 ? null : i % 3 === 0 ? [basis(), basis()] : [basis()],
    author: members[i % members.length]!,
  }
}

/** Mean ms of one refresh after one write: `plan` the ops, then the pair's summary. */
function perRefresh(
  held: PlacedOp[],
  members: readonly string[],
  plan: (ops: PlacedOp[]) => ReturnType<typeof planOps>,
): number {
  const [self, peer] = members as [string, string]
  plan(held)
  let total = 0
  for (let i = 0; i < REFRESHES; i++) {
    held.push(op(held.length, members))
    const startedAt = performance.now()
    summarize(heldByBoth(plan(held), self, peer))
    total += performance.now() - startedAt
  }
  return total / REFRESHES
}

export default async function run(): Promise<BenchReport> {
  const rows: Record<string, string | number>[] = []
  const figures: Record<string, number> = {}
  for (const size of [5_000, 20_000]) {
    for (const n of [32, 1_000]) {
      const members = Array.from({ length: n }, agent).sort()
      const ops = Array.from({ length: size }, (_, i) => op(i, members))
      const scratch = perRefresh([...ops], members, (held) => planOps(held, members, R))
      const plans = new HolderPlans()
      const kept = perRefresh([...ops], members, (held) => plans.plan(held, members, R))
      rows.push({
        'ops held': size,
        members: n,
        'planned from scratch (ms)': round(scratch, 1),
        'planned once (ms)': round(kept, 1),
        'x faster': round(scratch / kept, 1),
      })
      figures[`ops${size}_n${n}_scratch_ms`] = round(scratch, 2)
      figures[`ops${size}_n${n}_kept_ms`] = round(kept, 2)
    }
  }
  return {
    name: 'held-summary',
    rows,
    figures,
    note: `one summary refresh after one write, mean of ${REFRESHES}, R=${R}; synthetic ops; the same process`,
  }
}
