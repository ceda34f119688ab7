/**
 * What cover costs (docs/record.md): every member signs its record of the
 * requests it sent at the end of every slot, whether it sent any or not, so a bystander cannot tell who
 * asked whom. Two meshes of `ripple up` processes on loopback (no model, no request), the same in all
 * but the slot, each measured idle over the same span once every peer sees the others online:
 * - the anchor: a slot of an hour (no slot ends while measured: the mesh without cover);
 * - cover: a slot of a second.
 * Per peer: CPU of the daemon's own process (/proc), store bytes (page_count * page_size of
 * conductor.sqlite, WAL included), actions on its own chains and ops of others it verified and stored.
 * Cover's cost per slot is the difference over the slots that ended; at the default slot (a minute)
 * that is per member per day: its actions, its CPU, and the bytes each peer stores of it.
 * Run: `npm run bench cover-cost`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { DEFAULT_SERVED_SLOT_MS } from '../host/config/network-schema.ts'
import { isolatedNetwork } from '../tests/e2e/ripple-process.ts'
import { type Daemon, startDaemon, stopDaemons } from './daemon-api.ts'
import { metric, metrics, onlinePeers, storeBytes } from './daemon-store.ts'
import { median, ownCpuMs, round, sleep, waitFor } from './measure.ts'
import type { BenchReport } from './report.ts'

const PEERS = 4
const MEASURE_S = 40
/** After every peer is online: what joining writes (capabilities, first gossip rounds) settles first. */
const SETTLE_S = 15
const COVER_SLOT_MS = 1_000
const ANCHOR_SLOT_MS = 3_600_000
const DAY_MS = 86_400_000

interface Rates {
  /** Per second of the span, per peer (medians over the peers). */
  cpuMs: number
  storeBytes: number
  actions: number
  opsStored: number
}

async function counters(d: Daemon, dataDir: string) {
  const text = await metrics(d)
  return {
    cpuMs: await ownCpuMs(d.process.child.pid ?? 0),
    storeBytes: storeBytes(dataDir),
    actions: metric(text, 'ripple_chain_actions'),
    opsStored: metric(text, 'ripple_ops_stored_total'),
  }
}

/** A mesh of PEERS daemons signing on `slotMs`, idle: what each spends a second, medians over peers. */
async function idleMesh(slotMs: number): Promise<Rates> {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-cover-'))
  const daemons: Daemon[] = []
  try {
    const network = await isolatedNetwork(root, `bench-cover-${slotMs}`, {
      record: { served_slot_ms: slotMs },
    })
    const dirs = Array.from({ length: PEERS }, (_, i) => join(root, `peer-${i}`))
    for (const [i, dir] of dirs.entries()) daemons.push(await startDaemon(network, dir, `p${i}`))
    await waitFor(
      'every peer to see the others online',
      async () => (await Promise.all(daemons.map(metrics))).every((t) => onlinePeers(t) >= PEERS - 1),
      120_000,
    )
    await sleep(SETTLE_S * 1000)
    const before = await Promise.all(daemons.map((d, i) => counters(d, dirs[i]!)))
    const from = performance.now()
    await sleep(MEASURE_S * 1000)
    const after = await Promise.all(daemons.map((d, i) => counters(d, dirs[i]!)))
    const seconds = (performance.now() - from) / 1000
    const rate = (key: keyof Rates) => median(after.map((a, i) => (a[key] - before[i]![key]) / seconds))
    return {
      cpuMs: rate('cpuMs'),
      storeBytes: rate('storeBytes'),
      actions: rate('actions'),
      opsStored: rate('opsStored'),
    }
  } finally {
    await stopDaemons(daemons)
    await rm(root, { recursive: true, force: true })
  }
}

export default async function run(): Promise<BenchReport> {
  const anchor = await idleMesh(ANCHOR_SLOT_MS)
  const cover = await idleMesh(COVER_SLOT_MS)
  const slotsPerS = 1000 / COVER_SLOT_MS
  // Per slot ended, on one peer: what cover added to the mesh without it.
  const perSlot = (key: keyof Rates) => (cover[key] - anchor[key]) / slotsPerS
  // At the default slot, a day, on one peer of this mesh: it signs its own windows, checks and stores
  // every other member's.
  const slotsADay = DAY_MS / DEFAULT_SERVED_SLOT_MS
  const aDay = {
    actions: perSlot('actions') * slotsADay,
    cpuS: (perSlot('cpuMs') * slotsADay) / 1000,
    storeBytes: perSlot('storeBytes') * slotsADay,
  }
  const row = (what: string, key: keyof Rates, digits: number) => ({
    'per peer, a second': what,
    'anchor (no slot ends)': round(anchor[key], digits),
    [`cover (a slot of ${COVER_SLOT_MS / 1000} s)`]: round(cover[key], digits),
    'cover, a slot': round(perSlot(key), digits),
  })
  return {
    name: 'cover-cost',
    rows: [
      row('CPU ms', 'cpuMs', 2),
      row('store bytes', 'storeBytes', 0),
      row('own actions', 'actions', 2),
      row('ops of others stored', 'opsStored', 2),
    ],
    figures: {
      anchor_cpu_ms_per_s: round(anchor.cpuMs, 3),
      cover_cpu_ms_per_s: round(cover.cpuMs, 3),
      cpu_ms_per_slot: round(perSlot('cpuMs'), 3),
      store_bytes_per_slot: round(perSlot('storeBytes')),
      own_actions_per_slot: round(perSlot('actions'), 2),
      ops_stored_per_slot: round(perSlot('opsStored'), 2),
      default_slot_ms: DEFAULT_SERVED_SLOT_MS,
      peer_actions_a_day: round(aDay.actions),
      peer_cpu_s_a_day: round(aDay.cpuS, 1),
      peer_store_bytes_a_day: round(aDay.storeBytes),
      store_bytes_a_day_per_member: round(aDay.storeBytes / PEERS),
    },
    note:
      `${PEERS} ripple up processes on loopback, no model and no request, idle ${MEASURE_S} s once all are online ` +
      `(+${SETTLE_S} s); the anchor signs on a slot of an hour (none ends while measured), cover on a slot of ` +
      `${COVER_SLOT_MS / 1000} s; medians over the peers; "cover, a slot" = (cover - anchor) per slot ended. At the ` +
      `default slot (${DEFAULT_SERVED_SLOT_MS / 1000} s), a day, each peer of ${PEERS}: ${round(aDay.actions)} actions ` +
      `of its own, ${round(aDay.cpuS, 1)} s of CPU, ${round(aDay.storeBytes / 1e6, 2)} MB stored ` +
      `(${round(aDay.storeBytes / PEERS / 1e6, 2)} MB per member of the mesh). ` +
      `${availableParallelism()} cores, shared by every daemon.`,
  }
}
