/**
 * The simulation's figures: per peer, per simulated second, at each size, by kind of protocol; the
 * ratio of the largest size's to the smallest's; and the figures at 10,000 peers on paper, from the
 * measured ones fitted as a + b·log2(N) (what a bounded, O(log N) cost follows) and, beside them, what
 * a cost growing as N would reach (a + b·N through the same points), so a reader sees which the
 * measurements follow.
 */

import { DEFAULT_SERVED_SLOT_MS } from '../../host/config/network-schema.ts'
import type { Flow } from '../../host/metrics/traffic-meter.ts'
import { combined } from './process-meter.ts'
import type { PeerFigures, SimRunResult } from './sim-run.ts'

/** Kinds of traffic, by protocol id. */
const KINDS: [kind: string, test: (protocol: string) => boolean][] = [
  ['gossip', (p) => p.startsWith('/meshsub') || p.startsWith('/floodsub')],
  ['directory', (p) => p.includes('/kad/')],
  ['requests', (p) => p.includes('sim-infer') || p.includes('/signal/') || p.includes('load')],
  // The record's pushes and gets (sim-record.ts).
  ['record', (p) => p.includes('record')],
  ['membership', () => true],
]

export function kindOf(protocol: string): string {
  return KINDS.find(([, test]) => test(protocol))![0]
}

export interface SizeFigures {
  peers: number
  /** The simulated clock's speed against the real one. */
  speedup: number
  connections: number
  connectionsMax: number
  /** Connections a peer opened a simulated second (both directions: each a handshake); mean and the most. */
  openedPerS: number
  openedPerSMax: number
  msgsPerS: number
  msgsPerSMax: number
  bytesPerS: number
  /** Entries held about other peers: heartbeats heard and directory entries. */
  entries: number
  entriesMax: number
  heard: number
  heardMax: number
  directoryEntries: number
  /** Messages a second per peer by kind of protocol. */
  msgsPerSByKind: Record<string, number>
  bytesPerSByKind: Record<string, number>
  requestsOkPct: number
  /** Share of requests still unanswered a minute after the run (counted not ok). */
  requestsUnendedPct: number
  failedOverPct: number
  findHops: number
  /** Share of requests that asked the directory. */
  lookedPct: number
  findMsP50: number
  newRunnerFoundS: number | null
  deadRunnerDroppedS: number | null
  /** The first request after that runner died: runners it tried (2: it failed over within itself), and whether answered. */
  deadRunnerFirstTries: number | null
  deadRunnerFirstOk: boolean | null
  /** Share of requests whose plan named no runner at all (nothing known, nothing found). */
  noRunnerPct: number
  rssMb: number
  /** Processes the peers ran in, and the real seconds their mesh took to start. */
  processes: number
  startS: number
  /** The worst process's loop delay p99, and each process's (ms real). */
  loopDelayP99Ms: number
  loopDelayP99MsEach: number[]
  /** Share of a process's real time in collector pauses (the worst), the longest, and CPU (% of one core, all processes). */
  gcPct: number
  gcMaxMs: number
  cpuPct: number
  /** Heap per peer at the window's end: in use (garbage included), and what a full collection keeps. */
  heapMbPerPeer: number
  liveHeapMbPerPeer: number | null
  /** Gossip a peer sends (= receives, over the mesh) a second, by `<topic class>:<part>` (gossip-parts.ts). */
  gossipPerS: Record<string, { count: number; bytes: number }>
  /** Gossip bytes a second per peer on the mesh-wide signals topic: its messages and their IHAVEs. */
  signalsBytesPerS: number
  /** The same on the model topics. */
  modelTopicsBytesPerS: number
  /** Heartbeats the whole mesh sends mesh-wide a second (what every peer's signals traffic carries). */
  meshWideBeatsPerS: number
  /** Heartbeats the whole mesh sends on model topics a second. */
  topicBeatsPerS: number
  /** Mean bytes of a message on the signals topic. */
  beatBytes: number
  /** The record slot (simulated s) the peers signed cover on. */
  slotS: number
  /** The record's ops a peer checked (passed) and stored a simulated second: mean, and the most. */
  opsValidatedPerS: number
  opsStoredPerS: number
  opsStoredPerSMax: number
  /** Ops a peer signed a second (its cover, a runner's answers too). */
  opsWrittenPerS: number
  /** Bytes a peer stores a day of the record (its own ops and those it holds), at this slot: mean, most. */
  storeBytesPerDay: number
  storeBytesPerDayMax: number
  /** The same at the default slot (a minute): cover scaled by this slot over a minute, answers as they were. */
  storeBytesPerDayAtMinute: number
  /** Pushes a peer made that no try delivered, and ops it was pushed and refused, a second. */
  pushesFailedPerS: number
  refusedPerS: number
  /** Ops short of R holders at the window's end (%); after a tenth of the peers left at once and the hand-off ran: ops counted, and % short. */
  shortPct: number | null
  churnOps: number | null
  churnPushesFailed: number | null
  churnShortPct: number | null
  /** Gets of a far agent's batch from its holders: found (simulated ms p50, p95) and missed. */
  farBatchMsP50: number | null
  farBatchMsP95: number | null
  farBatchGets: number
  farBatchMissed: number
}

const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length)
const median = (xs: number[]) =>
  xs.length === 0 ? 0 : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const round = (x: number, digits = 1) => Number(x.toFixed(digits))
const both = (f: Flow) => ({ msgs: f.msgsIn + f.msgsOut, bytes: f.bytesIn + f.bytesOut })

export function sizeFigures(run: SimRunResult): SizeFigures {
  const proc = combined(run.processes)
  const seconds = run.windowSimMs / 1000
  const perPeer = run.steady.map((peer) => {
    const byKind: Record<string, { msgs: number; bytes: number }> = {}
    for (const [protocol, flow] of peer.flows) {
      const kind = kindOf(protocol)
      const sum = byKind[kind] ?? { msgs: 0, bytes: 0 }
      byKind[kind] = sum
      sum.msgs += both(flow).msgs / seconds
      sum.bytes += both(flow).bytes / seconds
    }
    const kinds = Object.values(byKind)
    return {
      byKind,
      msgs: kinds.reduce((a, k) => a + k.msgs, 0),
      bytes: kinds.reduce((a, k) => a + k.bytes, 0),
      connections: peer.connections,
      opened: peer.opened / seconds,
      entries: peer.heard + peer.directory,
      heard: peer.heard,
      directory: peer.directory,
    }
  })
  const kindMean = (what: 'msgs' | 'bytes') =>
    Object.fromEntries(
      KINDS.map(([kind]) => [kind, round(mean(perPeer.map((p) => p.byKind[kind]?.[what] ?? 0)), 2)]),
    )
  const done = run.requests
  const asked = done.length + run.requestsUnended
  const gossipPerS: SizeFigures['gossipPerS'] = {}
  for (const peer of run.steady)
    for (const [key, part] of peer.gossip) {
      const sum = gossipPerS[key] ?? { count: 0, bytes: 0 }
      gossipPerS[key] = sum
      sum.count += part.count / seconds / run.steady.length
      sum.bytes += part.bytes / seconds / run.steady.length
    }
  const gossipOf = (cls: string, what: 'count' | 'bytes', part?: string) =>
    Object.entries(gossipPerS)
      .filter(([key]) => key.startsWith(`${cls}:`) && (part === undefined || key === `${cls}:${part}`))
      .reduce((a, [, p]) => a + p[what], 0)
  const beatsPerS = (kind: 'meshWide' | 'topic') =>
    (mean(run.steady.map((p) => p.beats[kind])) * run.size) / seconds
  for (const part of Object.values(gossipPerS)) {
    part.count = round(part.count, 2)
    part.bytes = round(part.bytes, 0)
  }
  const recordRate = (key: keyof PeerFigures['record']) => run.steady.map((p) => p.record[key] / seconds)
  const found = [...run.farBatch.foundSimMs].sort((a, b) => a - b)
  const pct = (q: number) =>
    found.length === 0 ? null : round(found[Math.floor(q * (found.length - 1))]!, 0)
  return {
    slotS: round(run.slotSimMs / 1000),
    opsValidatedPerS: round(mean(recordRate('validated')), 3),
    opsStoredPerS: round(mean(recordRate('stored')), 3),
    opsStoredPerSMax: round(Math.max(0, ...recordRate('stored')), 3),
    opsWrittenPerS: round(mean(recordRate('written')), 3),
    storeBytesPerDay: round(mean(recordRate('storedBytes')) * 86_400, 0),
    storeBytesPerDayMax: round(Math.max(0, ...recordRate('storedBytes')) * 86_400, 0),
    storeBytesPerDayAtMinute: round(
      (mean(
        run.steady.map(
          (p) => p.record.storedBytes - p.record.coverBytes * (1 - run.slotSimMs / DEFAULT_SERVED_SLOT_MS),
        ),
      ) /
        seconds) *
        86_400,
      0,
    ),
    pushesFailedPerS: round(mean(recordRate('pushesFailed')), 3),
    refusedPerS: round(mean(recordRate('refused')), 3),
    churnOps: run.short?.after.ops ?? null,
    churnPushesFailed: run.short?.pushesFailed ?? null,
    shortPct: run.short && round((100 * run.short.before.short) / Math.max(1, run.short.before.ops), 2),
    churnShortPct: run.short && round((100 * run.short.after.short) / Math.max(1, run.short.after.ops), 2),
    farBatchMsP50: pct(0.5),
    farBatchMsP95: pct(0.95),
    farBatchGets: found.length + run.farBatch.missed,
    farBatchMissed: run.farBatch.missed,
    peers: run.size,
    speedup: run.speedup,
    connections: round(mean(perPeer.map((p) => p.connections))),
    connectionsMax: Math.max(0, ...perPeer.map((p) => p.connections)),
    openedPerS: round(mean(perPeer.map((p) => p.opened)), 3),
    openedPerSMax: round(Math.max(0, ...perPeer.map((p) => p.opened)), 3),
    msgsPerS: round(mean(perPeer.map((p) => p.msgs)), 2),
    msgsPerSMax: round(Math.max(0, ...perPeer.map((p) => p.msgs)), 2),
    bytesPerS: round(mean(perPeer.map((p) => p.bytes)), 0),
    entries: round(mean(perPeer.map((p) => p.entries))),
    entriesMax: Math.max(0, ...perPeer.map((p) => p.entries)),
    heard: round(mean(perPeer.map((p) => p.heard))),
    heardMax: Math.max(0, ...perPeer.map((p) => p.heard)),
    directoryEntries: round(mean(perPeer.map((p) => p.directory))),
    msgsPerSByKind: kindMean('msgs'),
    bytesPerSByKind: kindMean('bytes'),
    requestsOkPct: round((100 * done.filter((r) => r.ok).length) / Math.max(1, asked)),
    requestsUnendedPct: round((100 * run.requestsUnended) / Math.max(1, asked)),
    failedOverPct: round((100 * done.filter((r) => r.ok && r.tries > 1).length) / Math.max(1, done.length)),
    findHops: round(mean(done.filter((r) => r.looked).map((r) => r.hops)), 2),
    lookedPct: round((100 * done.filter((r) => r.looked).length) / Math.max(1, done.length)),
    findMsP50: round(median(done.filter((r) => r.looked).map((r) => r.findMs * run.speedup)), 0),
    newRunnerFoundS: run.newRunnerFoundSimMs === null ? null : round(run.newRunnerFoundSimMs / 1000),
    deadRunnerDroppedS: run.deadRunnerDroppedSimMs === null ? null : round(run.deadRunnerDroppedSimMs / 1000),
    deadRunnerFirstTries: run.deadRunnerFirstAfter?.tries ?? null,
    deadRunnerFirstOk: run.deadRunnerFirstAfter?.ok ?? null,
    noRunnerPct: round((100 * done.filter((r) => r.tries === 0).length) / Math.max(1, done.length)),
    rssMb: round(proc.rssMb, 0),
    processes: run.processes.length,
    startS: round(run.startMs / 1000, 0),
    loopDelayP99Ms: round(proc.loopDelayMs.p99, 0),
    loopDelayP99MsEach: run.processes.map((p) => round(p.loopDelayMs.p99, 0)),
    gcPct: round(proc.gcPct),
    gcMaxMs: round(proc.gcMaxMs, 0),
    cpuPct: round(proc.cpuPct),
    heapMbPerPeer: round(proc.heapUsedMb / run.size, 2),
    liveHeapMbPerPeer: proc.heapLiveMb === null ? null : round(proc.heapLiveMb / run.size, 2),
    gossipPerS,
    signalsBytesPerS: round(gossipOf('signals', 'bytes'), 0),
    modelTopicsBytesPerS: round(gossipOf('model', 'bytes'), 0),
    meshWideBeatsPerS: round(beatsPerS('meshWide'), 2),
    topicBeatsPerS: round(beatsPerS('topic'), 2),
    beatBytes: round(
      gossipOf('signals', 'bytes', 'message') / Math.max(1e-9, gossipOf('signals', 'count', 'message')),
      0,
    ),
  }
}

/** Least squares of y = a + b·x. */
function leastSquares(points: { x: number; y: number }[]): { a: number; b: number } {
  const mx = mean(points.map((p) => p.x))
  const my = mean(points.map((p) => p.y))
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0)
  const b = sxx === 0 ? 0 : points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx
  return { a: my - b * mx, b }
}

/** A per-peer figure at `n` peers from the measured sizes: fitted in log2(N), and, beside it, in N. */
export function projected(sizes: SizeFigures[], pick: (s: SizeFigures) => number, n: number) {
  const log = leastSquares(sizes.map((s) => ({ x: Math.log2(s.peers), y: pick(s) })))
  const lin = leastSquares(sizes.map((s) => ({ x: s.peers, y: pick(s) })))
  return { log: log.a + log.b * Math.log2(n), linear: lin.a + lin.b * n, ...log }
}

/** The headline per-peer figures: what a peer pays. */
export const COSTS: [name: string, pick: (s: SizeFigures) => number][] = [
  ['connections', (s) => s.connections],
  ['connections_opened_per_s', (s) => s.openedPerS],
  ['msgs_per_s', (s) => s.msgsPerS],
  ['bytes_per_s', (s) => s.bytesPerS],
  ['entries', (s) => s.entries],
]

const cell = (x: number | null) => (x === null ? '-' : x)

export function tableRow(s: SizeFigures): Record<string, string | number> {
  return {
    peers: s.peers,
    source: 'measured',
    'connections (per peer)': s.connections,
    'connections max (per peer)': s.connectionsMax,
    'connections opened (/s per peer)': s.openedPerS,
    'connections opened max (/s per peer)': s.openedPerSMax,
    'messages (msg/s per peer)': s.msgsPerS,
    'gossip (msg/s per peer)': s.msgsPerSByKind.gossip ?? 0,
    'membership (msg/s per peer)': s.msgsPerSByKind.membership ?? 0,
    'directory (msg/s per peer)': s.msgsPerSByKind.directory ?? 0,
    'requests (msg/s per peer)': s.msgsPerSByKind.requests ?? 0,
    'record (msg/s per peer)': s.msgsPerSByKind.record ?? 0,
    'record (KB/s per peer)': round((s.bytesPerSByKind.record ?? 0) / 1000, 2),
    'traffic (KB/s per peer)': round(s.bytesPerS / 1000, 2),
    'entries (per peer)': s.entries,
    'heartbeats held (per peer)': s.heard,
    'signals topic (B/s per peer)': s.signalsBytesPerS,
    'model topics (B/s per peer)': s.modelTopicsBytesPerS,
    'mesh-wide beats (/s, whole mesh)': s.meshWideBeatsPerS,
    'topic beats (/s, whole mesh)': s.topicBeatsPerS,
    'beat size (B)': s.beatBytes,
    'directory entries (per peer)': s.directoryEntries,
    'looked up (% of requests)': s.lookedPct,
    'find hops (per look)': s.findHops,
    'find time p50 (ms sim)': s.findMsP50,
    'new runner found (s)': cell(s.newRunnerFoundS),
    'dead runner dropped (s)': cell(s.deadRunnerDroppedS),
    'next request after its death (runners tried)': cell(s.deadRunnerFirstTries),
    'next request answered': s.deadRunnerFirstOk === null ? '-' : s.deadRunnerFirstOk ? 'yes' : 'no',
    requests_ok_pct: s.requestsOkPct,
    'unanswered at the end (% of requests)': s.requestsUnendedPct,
    'no runner found (% of requests)': s.noRunnerPct,
    failed_over_pct: s.failedOverPct,
    rss_mb: s.rssMb,
    'clock (x real)': s.speedup,
    processes: s.processes,
    'start-up (s real)': s.startS,
    'loop delay p99 (ms real)': s.loopDelayP99Ms,
    'loop delay p99 by process (ms real)': s.loopDelayP99MsEach.join(' / '),
    'collector (% of real time)': s.gcPct,
    'longest collector pause (ms)': s.gcMaxMs,
    'cpu (% of a core)': s.cpuPct,
    'heap (MB per peer)': s.heapMbPerPeer,
    'live heap (MB per peer)': cell(s.liveHeapMbPerPeer),
    'record slot (s sim)': s.slotS,
    'ops written (/s per peer)': s.opsWrittenPerS,
    'ops validated (/s per peer)': s.opsValidatedPerS,
    'ops stored (/s per peer)': s.opsStoredPerS,
    'ops stored max (/s per peer)': s.opsStoredPerSMax,
    'store a day (MB per peer, at this slot)': round(s.storeBytesPerDay / 1e6, 2),
    'store a day max (MB per peer)': round(s.storeBytesPerDayMax / 1e6, 2),
    'store a day at a minute slot (MB per peer)': round(s.storeBytesPerDayAtMinute / 1e6, 2),
    'pushes failed (/s per peer)': s.pushesFailedPerS,
    'ops refused (/s per peer)': s.refusedPerS,
    'ops short of R before churn (%)': cell(s.shortPct),
    'ops short of R after churn (%)': cell(s.churnShortPct),
    'ops counted after churn': cell(s.churnOps),
    'pushes failed in the hand-off (whole mesh)': cell(s.churnPushesFailed),
    'far batch found p50 (ms sim)': cell(s.farBatchMsP50),
    'far batch found p95 (ms sim)': cell(s.farBatchMsP95),
    'far batch gets (missed)': `${s.farBatchGets} (${s.farBatchMissed})`,
  }
}

/** A row of the figures at `n` peers on paper (log fit), where the measured sizes allow a fit. */
export function paperRow(sizes: SizeFigures[], n: number): Record<string, string | number> | null {
  if (sizes.length < 2) return null
  const at = (pick: (s: SizeFigures) => number) => round(Math.max(0, projected(sizes, pick, n).log), 2)
  return {
    peers: n,
    source: 'on paper: a + b·log2 N fitted to the sizes measured',
    'connections (per peer)': at((s) => s.connections),
    'connections opened (/s per peer)': at((s) => s.openedPerS),
    'messages (msg/s per peer)': at((s) => s.msgsPerS),
    'traffic (KB/s per peer)': round(at((s) => s.bytesPerS) / 1000, 2),
    'entries (per peer)': at((s) => s.entries),
  }
}
