/**
 * How the record's holders spread a mesh's writes (design 4e, docs/record.md "Where records live"): the
 * planner of op-holders.ts, R the network file's default, over members with agent keys and ops with
 * action hashes drawn from fixed seeds. Per mesh size N: the share of the neighbourhood records each
 * peer holds (mean R/N; the most any one peer holds, since Kademlia's places are not evenly spread),
 * what that is of cover in members' worth and ops a day (each member signs two actions a slot, a
 * minute by default), what a tenth of the members leaving at once does (the ops left with fewer than
 * R holders until re-replicated, and with none; the pushes of the hand-off that restores R), and the
 * time to plan one op's holders; and a mesh of 12 at R = 4 (the share a peer would store). The planner
 * only: no transport, no store (the simulation and `mesh-scale` measure those).
 * Run: `npm run bench record-holders`.
 */
import { createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { opHandoff } from '../host/conductor/embedded/replication/op-handoff.ts'
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
/** A small mesh past a small R: 12 peers, 4 holders. */
const SMALL = { peers: 12, holders: 4 }
/** Members leaving at once in the churn row. */
const LEAVING = 0.1

const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest())
const agent = (i: number) => encodeHashB64(holoHashFrom32(sha256(`bench member ${i}`), 'agent'))
const basis = (j: number) => holoHashFrom32(sha256(`bench op ${j}`), 'action')

interface Row {
  [column: string]: number
  peers: number
  holders: number
  share_mean_pct: number
  share_max_pct: number
  cover_members_worth_mean: number
  cover_members_worth_max: number
  cover_ops_day_max: number
  churn_short_pct: number
  churn_lost_pct: number
  churn_pushes_max: number
  churn_restored_pct: number
  plan_us: number
}

function measure(n: number, r = R): Row {
  const members = Array.from({ length: n }, (_, i) => agent(i))
  const placed = placeMembers(members)
  const bases = Array.from({ length: OPS }, (_, j) => basis(j))
  const places = bases.map(placeOfBasis)
  const held = new Map(members.map((m) => [m, 0]))
  const started = performance.now()
  const plans = places.map((place) => closestMembers(place, placed, r))
  const planUs = ((performance.now() - started) * 1000) / OPS
  for (const holders of plans) for (const h of holders) held.set(h, held.get(h)! + 1)
  // A tenth of the members leave: every tenth one, fixed, so the row is the same on every run.
  const leaving = new Set(members.filter((_, i) => i % Math.round(1 / LEAVING) === 0))
  const staying = members.filter((m) => !leaving.has(m))
  let short = 0
  let lost = 0
  let restored = 0
  const pushes = new Map(staying.map((m) => [m, 0]))
  for (const [j, holders] of plans.entries()) {
    const left = holders.filter((h) => !leaving.has(h)).length
    if (left < Math.min(r, staying.length)) short++
    if (left === 0) lost++
    // Churn's hand-off: the closest holder left pushes the op to each new holder once.
    const handoff = opHandoff(bases[j]!, members, staying, r)
    if (handoff.by === null) continue
    pushes.set(handoff.by, pushes.get(handoff.by)! + handoff.to.length)
    if (left + handoff.to.length === Math.min(r, staying.length)) restored++
  }
  const shares = [...held.values()].map((count) => count / OPS)
  const mean = shares.reduce((a, b) => a + b, 0) / n
  const max = Math.max(...shares)
  return {
    peers: n,
    holders: r,
    share_mean_pct: round(mean * 100, 2),
    share_max_pct: round(max * 100, 2),
    cover_members_worth_mean: round(mean * n, 1),
    cover_members_worth_max: round(max * n, 1),
    cover_ops_day_max: Math.round(max * n * COVER_OPS_PER_MEMBER_DAY),
    churn_short_pct: round((short / OPS) * 100, 2),
    churn_lost_pct: round((lost / OPS) * 100, 4),
    churn_pushes_max: Math.max(...pushes.values()),
    churn_restored_pct: round((restored / OPS) * 100, 2),
    plan_us: round(planUs, 1),
  }
}

export default async function run(): Promise<BenchReport> {
  // The default R over the sizes, and a small mesh past a small R (what a sharded team's mesh would keep).
  const rows = [...SIZES.map((n) => measure(n)), measure(SMALL.peers, SMALL.holders)]
  const at = (n: number) => rows.find((row) => row.peers === n && row.holders === R)!
  const small = rows.at(-1)!
  return {
    name: 'record-holders',
    note:
      `R = ${R}, ${OPS} ops with fixed action hashes per mesh size; share: of the neighbourhood ops, one peer's ` +
      `(mean, and the most any peer holds); cover: members' worth of cover a peer holds (x ~3.2 MB a day ` +
      `each, cover-cost), and its ops a day at a ${DEFAULT_SERVED_SLOT_MS / 1000} s slot; churn: a tenth ` +
      'of the members gone at once, ops left with fewer than R holders (short) or none (lost) until re-replicated, ' +
      'the most ops one peer pushes to new holders (op-handoff.ts: the closest holder left pushes), and the ops ' +
      `back at R holders after those pushes; the last row: ${SMALL.peers} peers at R = ${SMALL.holders}, the ` +
      "share of the neighbourhood records a peer would store against full replication's 100%",
    rows,
    figures: {
      members_worth_max_at_100: at(100).cover_members_worth_max,
      members_worth_max_at_1000: at(1_000).cover_members_worth_max,
      churn_short_pct_at_1000: at(1_000).churn_short_pct,
      churn_lost_pct_at_1000: at(1_000).churn_lost_pct,
      churn_restored_pct_at_1000: at(1_000).churn_restored_pct,
      churn_pushes_max_at_1000: at(1_000).churn_pushes_max,
      share_mean_pct_12_r4: small.share_mean_pct,
      share_max_pct_12_r4: small.share_max_pct,
      plan_us_at_1000: at(1_000).plan_us,
    },
  }
}
