/**
 * One run of the simulation at one size: the mesh starts and settles, then for a window of simulated
 * time it lives under churn (10% of the peers leave and as many join per simulated hour) and a request
 * load (every requester asks for a model every `requestEverySimMs`), while two probes run (sim-probes.ts):
 * a runner of a new model joins and a requester far from it (not connected to it) waits until its plan
 * names it; a runner is switched off under a requester that keeps asking, until it stops trying it
 * first; and a far agent's batch is got from its holders. Per peer (those there for the whole window):
 * connections, messages and bytes by protocol, entries held about other peers, the record's ops it
 * checked and stored (sim-record.ts). After the window a tenth of the peers leave at once and as many
 * join: once the hand-off has had a few simulated seconds, the share of ops short of R holders.
 */

import { DEFAULT_RECORD_HOLDERS } from '../../host/config/network-schema.ts'
import type { GossipPart } from '../../host/metrics/gossip-parts.ts'
import { addFlow, emptyFlow, type Flow } from '../../host/metrics/traffic-meter.ts'
import type { HeldOp } from './held-ops.ts'
import type { Counters, MeshPeer } from './mesh-peer.ts'
import type { ProcessFigures } from './process-meter.ts'
import { type ShortCount, shortOfHolders } from './record-short.ts'
import { MODELS, SimMesh, sample } from './sim-mesh.ts'
import type { Outcome } from './sim-peer.ts'
import { deadRunnerProbe, type FarBatchFigures, farBatchProbe, newRunnerProbe } from './sim-probes.ts'
import { PUSH_SPREAD, type RecordCounters } from './sim-record.ts'

export interface SimRunInit {
  size: number
  speedup: number
  /** Simulated time the mesh settles before the window. */
  settleSimMs: number
  /** Simulated time measured. */
  windowSimMs: number
  /** Each requester asks once per this much simulated time. */
  requestEverySimMs: number
  /** Share of peers leaving (and as many joining) per simulated hour. */
  churnPerHour?: number
  /** Simulated time each probe waits at most (default a third of the window); the window stretches to fit. */
  probeWaitSimMs?: number
  /** Processes the peers run in (default 1: this one, in memory; more: linked by TCP, split-host.ts). */
  processes?: number
  /** The record slot, simulated (default the network file's, a minute). */
  slotSimMs?: number
  /** Whether a tenth leave at once after the window and the ops short of R are counted (default true). */
  churnAtOnce?: boolean
}

/** Ops short of R holders at the window's end, and after a tenth left at once and the hand-off ran. */
export interface ChurnFigures {
  before: ShortCount
  after: ShortCount
  /** Pushes no try delivered from the peers' leaving until the count (the hand-off's, the slots' in it). */
  pushesFailed: number
}

/** Peers that leave at once after the window (as many join), and the simulated ms the hand-off is given. */
const CHURN_AT_ONCE = 0.1
const HANDOFF_SIM_MS = 10_000
/** The churn count's time, real: at least this, and on a slow clock room for its two hand-off waits and the joins. */
const CHURN_MAX_REAL_MS = 240_000
/** How long the window's requests are waited for after the churn count, and the peers' stop after that. */
const REQUESTS_MAX_REAL_MS = 60_000
const STOP_MAX_REAL_MS = 60_000
/** Past the probes' own wait, how long they are given before what they found is taken. */
const PROBES_GRACE_REAL_MS = 120_000

export interface PeerFigures {
  connections: number
  /** Peers whose heartbeats it holds. */
  heard: number
  /** Its directory's routing table and records. */
  directory: number
  /** Over the window, by protocol (the network's tag dropped from its own protocols). */
  flows: Map<string, Flow>
  /** Its gossip sent over the window, by topic class and part (host/metrics/gossip-parts.ts). */
  gossip: Map<string, GossipPart>
  /** Heartbeats it sent over the window: mesh-wide, and on model topics. */
  beats: Counters['beats']
  /** Connections it opened over the window, both directions. */
  opened: number
  /** Its record over the window (sim-record.ts). */
  record: RecordCounters
}

export interface SimRunResult {
  size: number
  speedup: number
  windowSimMs: number
  /** Peers there for the whole window. */
  steady: PeerFigures[]
  requests: Outcome[]
  /** Requests still unanswered REQUESTS_MAX_REAL_MS after the churn count (a dial left hanging in an overloaded process). */
  requestsUnended: number
  churned: number
  /** Simulated ms until a far requester's plan named a new runner; null if not within the wait. */
  newRunnerFoundSimMs: number | null
  /** Simulated ms until a requester's plan stopped trying a runner switched off first; null if not within the wait. */
  deadRunnerDroppedSimMs: number | null
  /** That requester's first request after the runner died (null: no probe). */
  deadRunnerFirstAfter: Outcome | null
  /** Real ms the mesh took to start: every peer joined, batch by batch (sim-mesh.ts). */
  startMs: number
  /** What the window cost each process hosting peers: how far behind the simulation ran, and why. */
  processes: ProcessFigures[]
  slotSimMs: number
  /** Gets of a far agent's batch from its holders. */
  farBatch: FarBatchFigures
  /** Null when not asked for, or when it did not end within CHURN_MAX_REAL_MS. */
  short: ChurnFigures | null
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function gossipDelta(
  after: Map<string, GossipPart>,
  before: Map<string, GossipPart>,
): Map<string, GossipPart> {
  const out = new Map<string, GossipPart>()
  for (const [key, part] of after) {
    const was = before.get(key) ?? { count: 0, bytes: 0 }
    out.set(key, { count: part.count - was.count, bytes: part.bytes - was.bytes })
  }
  return out
}

/** `after - before` per protocol, the network's tag taken out of its protocols' names. */
function delta(after: Map<string, Flow>, before: Map<string, Flow>): Map<string, Flow> {
  const out = new Map<string, Flow>()
  for (const [protocol, flow] of after) {
    const was = before.get(protocol) ?? emptyFlow()
    const name = protocol.replace(/^\/ripple\/[0-9a-f]{16}\//, '/ripple/')
    const sum = out.get(name) ?? emptyFlow()
    addFlow(sum, {
      msgsIn: flow.msgsIn - was.msgsIn,
      msgsOut: flow.msgsOut - was.msgsOut,
      bytesIn: flow.bytesIn - was.bytesIn,
      bytesOut: flow.bytesOut - was.bytesOut,
    })
    out.set(name, sum)
  }
  return out
}

function recordDelta(now: RecordCounters, was: RecordCounters): RecordCounters {
  const out = { ...now }
  for (const key of Object.keys(now) as (keyof RecordCounters)[]) out[key] = now[key] - was[key]
  return out
}

/**
 * A tenth of the requesters leave at once and as many join; after HANDOFF_SIM_MS, the ops signed before
 * they left that fewer than R of their holders now hold (record-short.ts).
 */
async function churnAtOnce(mesh: SimMesh): Promise<ChurnFigures> {
  // Ops signed within the last slot's push spread may not have been pushed yet: left out of both counts.
  const beforeUs = (Date.now() - PUSH_SPREAD * mesh.real(mesh.slotSimMs)) * 1000
  const heldNow = async () => {
    const held = new Map<string, HeldOp[]>()
    for (const p of mesh.peers) held.set(p.agent, await p.held().catch(() => []))
    return held
  }
  const before = shortOfHolders(await heldNow(), beforeUs, DEFAULT_RECORD_HOLDERS)
  const failed = async (peers: MeshPeer[]) =>
    (
      await Promise.all(
        peers.map((p) =>
          p.counters().then(
            (c) => c.record.pushesFailed,
            () => 0,
          ),
        ),
      )
    ).reduce((a, b) => a + b, 0)
  const leaving = sample(mesh.requesters(), Math.ceil(CHURN_AT_ONCE * mesh.peers.length))
  // Gone for the others at once; a node slow to stop is not waited for past the hand-off's time.
  await Promise.race([Promise.all(leaving.map((p) => mesh.leave(p))), sleep(mesh.real(HANDOFF_SIM_MS))])
  const stayed = [...mesh.peers]
  const failedBefore = await failed(stayed)
  const joined = await mesh.joinMany(leaving.length)
  await sleep(mesh.real(HANDOFF_SIM_MS))
  return {
    before,
    after: shortOfHolders(await heldNow(), beforeUs, DEFAULT_RECORD_HOLDERS),
    pushesFailed: (await failed(stayed)) - failedBefore + (await failed(joined)),
  }
}

export async function runSimulation(init: SimRunInit): Promise<SimRunResult> {
  const startedAt = performance.now()
  const mesh = await SimMesh.start({
    size: init.size,
    speedup: init.speedup,
    processes: init.processes,
    slotSimMs: init.slotSimMs,
  })
  const startMs = performance.now() - startedAt
  const progress = (what: string) => process.stderr.write(`mesh-sim: ${init.size} peers, ${what}\n`)
  progress(`started in ${Math.round(startMs / 1000)} s`)
  try {
    await sleep(mesh.real(init.settleSimMs))
    const meter = await mesh.host.meter()
    const before = new Map(await Promise.all(mesh.peers.map(async (p) => [p, await p.counters()] as const)))
    const windowStart = performance.now()
    const connections = new Map<MeshPeer, number[]>()
    const sampleConnections = () =>
      Promise.all(
        mesh.peers.map(async (p) => {
          const now = await p.connections().catch(() => null)
          if (now !== null) connections.set(p, [...(connections.get(p) ?? []), now])
        }),
      )
    // A runner has 2 s (simulated) to start answering, on top of the slot its answer holds.
    const tryMs = mesh.real(2_000) + mesh.holdMs
    const requests: Promise<Outcome>[] = []
    const load = setInterval(
      () => {
        // Each requester once per period, spread over it, for a model some runner serves (in a small
        // mesh a tenth of the peers do not cover every model).
        const served = MODELS.filter((m) => mesh.runners(m).length > 0)
        for (const p of sample(mesh.requesters(), Math.ceil(mesh.requesters().length / 10)))
          requests.push(p.request(served[Math.floor(Math.random() * served.length)]!, tryMs))
      },
      mesh.real(init.requestEverySimMs / 10),
    )
    let churned = 0
    const churnEveryMs = mesh.real(3_600_000 / ((init.churnPerHour ?? 0.1) * init.size))
    const churn = setInterval(() => {
      const leaving = sample(mesh.requesters(), 1)[0]
      if (leaving === undefined) return
      churned++
      void mesh.leave(leaving).then(() => mesh.join())
    }, churnEveryMs)
    const sampler = setInterval(() => void sampleConnections(), mesh.real(10_000))
    const windowEnd = performance.now() + mesh.real(init.windowSimMs)

    const probeWait = init.probeWaitSimMs ?? init.windowSimMs / 3
    // Both at once: the window stretches to the longer probe, not their sum (at 1,000 peers and
    // MESH_SIM_REAL_PEERS=40 a simulated second lasts 25 real ones).
    // Each bounded too: a step not on its wait's clock (a join, a request's dial) may hang in an
    // overloaded process (the 1,000 row sat 24 minutes past its window, this stop); one cut off reads
    // as not found.
    const probesEnd = sleep(mesh.real(probeWait) + PROBES_GRACE_REAL_MS)
    const within = <T>(probe: Promise<T>, none: T) => Promise.race([probe, probesEnd.then(() => none)])
    const [newRunnerFoundSimMs, dead, farBatch] = await Promise.all([
      within(newRunnerProbe(mesh, probeWait), null),
      within(deadRunnerProbe(mesh, tryMs, probeWait), { droppedSimMs: null, firstAfter: null }),
      within(farBatchProbe(mesh, probeWait), { foundSimMs: [], missed: 0 }),
    ])

    await sleep(Math.max(0, windowEnd - performance.now()))
    clearInterval(load)
    clearInterval(churn)
    clearInterval(sampler)
    await sampleConnections()
    const processes = await meter.stop()
    // What was measured: the window, or longer where the probes took longer.
    const windowSimMs = (performance.now() - windowStart) * mesh.speedup
    const steady = await Promise.all(
      mesh.peers
        .filter((p) => before.has(p))
        .map(async (p) => {
          const samples = connections.get(p) ?? [await p.connections()]
          const [now, was] = [await p.counters(), before.get(p)!]
          return {
            connections: samples.reduce((a, b) => a + b, 0) / samples.length,
            ...(await p.entries()),
            flows: delta(now.flows, was.flows),
            gossip: gossipDelta(now.gossip, was.gossip),
            beats: {
              meshWide: now.beats.meshWide - was.beats.meshWide,
              topic: now.beats.topic - was.beats.topic,
            },
            opened: now.opened - was.opened,
            record: recordDelta(now.record, was.record),
          }
        }),
    )
    progress('window done')
    // Bounded: what the count waits on (peers leaving, joining, answering) may not end in an overloaded process.
    const short =
      init.churnAtOnce === false
        ? null
        : await Promise.race([
            churnAtOnce(mesh),
            sleep(Math.max(CHURN_MAX_REAL_MS, 3 * mesh.real(HANDOFF_SIM_MS))).then(() => null),
          ])
    progress(short === null ? 'churn not counted in time' : 'churn counted')
    const cut = sleep(REQUESTS_MAX_REAL_MS).then(() => null)
    const ended = await Promise.all(requests.map((r) => Promise.race([r, cut])))
    progress('requests ended')
    return {
      size: init.size,
      speedup: init.speedup,
      windowSimMs,
      steady,
      requests: ended.filter((r) => r !== null),
      requestsUnended: ended.filter((r) => r === null).length,
      churned,
      newRunnerFoundSimMs,
      deadRunnerDroppedSimMs: dead.droppedSimMs,
      deadRunnerFirstAfter: dead.firstAfter,
      startMs,
      processes,
      slotSimMs: mesh.slotSimMs,
      farBatch,
      short,
    }
  } finally {
    // What was measured is returned whether or not every node closes in time (its process exits after).
    await Promise.race([mesh.stop(), sleep(STOP_MAX_REAL_MS)])
  }
}
