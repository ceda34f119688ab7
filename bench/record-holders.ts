/**
 * How the record's holders spread a mesh's writes (design 4e, docs/record.md "Where records live"): the
 * planner of op-holders.ts, R the network file's default, over members with agent keys and ops with
 * action hashes drawn from fixed seeds. Per mesh size N: the share of the neighbourhood records each
 * peer holds (mean R/N; the most any one peer holds, since Kademlia's places are not evenly spread),
 * what that is of cover in members' worth and ops a day (each member signs two actions a slot, a
 * minute by default), what a tenth of the members leaving at once does (the ops left with fewer than
 * R holders until re-replicated, and with none), and the time to plan one op's holders. The planner
 * only: no transport, no store (the simulation and `mesh-scale` measure those).
 * Run: `npm run bench record-holders`.
 */
import { createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import {
  closestMembers,
  placeMembers,
  placeOfBasis,
} from '../host/conductor/embedded/replication/op-holders.ts'
import { DEFAULT_RECORD_HOLDERS, DEFAULT_SERVED_SLOT_MS } from '../host/config/network-schema.ts'
import { encodeHashB64, holoHashFrom32 } from '../host/identity/hash.ts'
import { round } from './measure.ts'
import type { BenchReport } from './report.ts'

const SIZES = [8, 16, 32, 100, 300, 1_000]
const OPS = 10_000
const R = DEFAULT_RECORD_HOLDERS
/** Cover: a ServedLeaves and a ServedBatch action every slot. */
const COVER_OPS_PER_MEMBER_DAY = (2 * 86_400_000) / DEFAULT_SERVED_SLOT_MS
/** Members leaving at once in the churn row. */
const LEAVING = 0.1

const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest())
const agent = (i: number) => encodeHashB64(holoHashFrom32(sha256(`bench member ${i}`), 'agent'))
const basis = (j: number) => holoHashFrom32(sha256(`bench op ${j}`), 'action')

interface Row {
  [column: string]: number
  peers: number
  share_mean_pct: number
  share_max_pct: number
  cover_members_worth_mean: number
  cover_members_worth_max: number
  cover_ops_day_max: number
  churn_short_pct: number
  churn_lost_pct: number
  plan_us: number
}

function measure(n: number): Row {
  const members = Array.from({ length: n }, (_, i) => agent(i))
  const placed = placeMembers(members)
  const places = Array.from({ length: OPS }, (_, j) => placeOfBasis(basis(j)))
  const held = new Map(members.map((m) => [m, 0]))
  const started = performance.now()
  const plans = places.map((place) => closestMembers(place, placed, R))
  const planUs = ((performance.now() - started) * 1000) / OPS
  for (const holders of plans) for (const h of holders) held.set(h, held.get(h)! + 1)
  // A tenth of the members leave: every tenth one, fixed, so the row is the same on every run.
  const leaving = new Set(members.filter((_, i) => i % Math.round(1 / LEAVING) === 0))
  let short = 0
  let lost = 0
  for (const holders of plans) {
    const left = holders.filter((h) => !leaving.has(h)).length
    if (left < Math.min(R, n - leaving.size)) short++
    if (left === 0) lost++
  }
  const shares = [...held.values()].map((count) => count / OPS)
  const mean = shares.reduce((a, b) => a + b, 0) / n
  const max = Math.max(...shares)
  return {
    peers: n,
    share_mean_pct: round(mean * 100, 2),
    share_max_pct: round(max * 100, 2),
    cover_members_worth_mean: round(mean * n, 1),
    cover_members_worth_max: round(max * n, 1),
    cover_ops_day_max: Math.round(max * n * COVER_OPS_PER_MEMBER_DAY),
    churn_short_pct: round((short / OPS) * 100, 2),
    churn_lost_pct: round((lost / OPS) * 100, 4),
    plan_us: round(planUs, 1),
  }
}

export default async function run(): Promise<BenchReport> {
  const rows = SIZES.map(measure)
  const at = (n: number) => rows.find((row) => row.peers === n)!
  return {
    name: 'record-holders',
    note:
      `R = ${R}, ${OPS} ops with fixed action hashes per mesh size; share: of the neighbourhood ops, one peer's ` +
      `(mean, and the most any peer holds); cover: members' worth of cover a peer holds (x ~3.2 MB a day ` +
      `each, cover-cost), and its ops a day at a ${DEFAULT_SERVED_SLOT_MS / 1000} s slot; churn: a tenth ` +
      'of the members gone at once, ops left with fewer than R holders (short) or none (lost) until re-replicated',
    rows,
    figures: {
      members_worth_max_at_100: at(100).cover_members_worth_max,
      members_worth_max_at_1000: at(1_000).cover_members_worth_max,
      churn_short_pct_at_1000: at(1_000).churn_short_pct,
      churn_lost_pct_at_1000: at(1_000).churn_lost_pct,
      plan_us_at_1000: at(1_000).plan_us,
    },
  }
}
