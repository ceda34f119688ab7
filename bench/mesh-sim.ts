/**
 * A thousand peers in one process (one per size; issue 56, design 4e), or split over several: what one peer pays as
 * the mesh grows. Each simulated peer is the daemon's own libp2p node (createRippleNode over `@libp2p/memory`, or TCP on
 * loopback when split: membership,
 * gossip, directory and topics as shipped) with heartbeats and routing as the daemon does them
 * (bench/mesh-sim/sim-peer.ts), on a clock sped up by one factor, under churn (10% of the peers leave
 * and join per simulated hour) and a request load. Per peer, per simulated second, at each size:
 * connections, messages and bytes by kind of protocol, entries held about other peers, how long a far
 * requester takes to see a new runner and to stop choosing a dead one; the figures at 10,000 on paper.
 *
 * `MESH_SIM_SIZES=100,300,1000` (default), `MESH_SIM_SPEEDUP` (default 1: one process runs every peer, so a faster clock starves its event loop; the table's last column says how far behind it ran), or
 * `MESH_SIM_REAL_PEERS` (each size at speedup min(1, it / N): the same work a real second at every size; ~40 on 2 cores), `MESH_SIM_WINDOW_S`
 * (simulated seconds measured, default 600), `MESH_SIM_SETTLE_S` (before it, default 120), `MESH_SIM_PROBE_S`
 * (the most each probe waits, default 200: a window shorter than the probes stretches to fit them),
 * `MESH_SIM_PROCESSES` (default 1: a size's peers in one process over `@libp2p/memory`; K: over K
 * processes linked by TCP on loopback, the size's process their controller, bench/mesh-sim/split-host.ts),
 * `MESH_SIM_SLOT_S` (the record slot, simulated; default the network file's minute: every peer signs its
 * cover pair each slot and pushes it to its holders, bench/mesh-sim/sim-record.ts). Writes bench/results/mesh-sim.svg: each per-peer cost
 * against N, as a multiple of its value at the smallest size (flat at 1: bounded; a line up: O(N)).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { svgChart } from '../scripts/bench-docs/svg-chart.ts'
import { COSTS, paperRow, projected, type SizeFigures, tableRow } from './mesh-sim/sim-report.ts'
import { runSizeApart } from './mesh-sim/sim-size.ts'
import type { BenchReport } from './report.ts'

const PAPER_SIZE = 10_000

function settings() {
  const sizes = (process.env.MESH_SIM_SIZES ?? '100,300,1000').split(',').map(Number)
  if (sizes.some((n) => !Number.isInteger(n) || n < 8))
    throw new Error('MESH_SIM_SIZES: whole numbers, 8 or more')
  const processes = Number(process.env.MESH_SIM_PROCESSES ?? 1)
  if (!Number.isInteger(processes) || processes < 1)
    throw new Error('MESH_SIM_PROCESSES: a whole number, 1 or more')
  return {
    sizes,
    speedup: Number(process.env.MESH_SIM_SPEEDUP ?? 1),
    realPeers: process.env.MESH_SIM_REAL_PEERS === undefined ? null : Number(process.env.MESH_SIM_REAL_PEERS),
    windowSimMs: 1000 * Number(process.env.MESH_SIM_WINDOW_S ?? 600),
    settleSimMs: 1000 * Number(process.env.MESH_SIM_SETTLE_S ?? 120),
    probeWaitSimMs: 1000 * Number(process.env.MESH_SIM_PROBE_S ?? 200),
    processes,
    slotSimMs:
      process.env.MESH_SIM_SLOT_S === undefined ? undefined : 1000 * Number(process.env.MESH_SIM_SLOT_S),
  }
}

function plot(sizes: SizeFigures[]): string {
  const first = sizes[0]!
  return svgChart({
    kind: 'line',
    title: 'Per-peer cost against mesh size',
    xLabel: 'peers in the mesh',
    yLabel: `x its value at ${first.peers} peers`,
    series: COSTS.map(([name, pick]) => ({
      name,
      points: sizes.map((s) => ({
        x: s.peers,
        y: pick(first) === 0 ? 0 : Number((pick(s) / pick(first)).toFixed(2)),
      })),
    })),
  })
}

export default async function run(): Promise<BenchReport> {
  const { sizes, speedup, realPeers, windowSimMs, settleSimMs, probeWaitSimMs, processes, slotSimMs } =
    settings()
  const measured: SizeFigures[] = []
  for (const size of sizes) {
    const sized = await runSizeApart({
      size,
      // The same load on this process at every size: the clock slowed as the peers grow.
      speedup: realPeers === null ? speedup : Math.min(1, realPeers / size),
      settleSimMs,
      windowSimMs,
      probeWaitSimMs,
      processes,
      slotSimMs,
      requestEverySimMs: 60_000,
    })
    measured.push(sized)
    process.stderr.write(`mesh-sim: ${size} peers done (${JSON.stringify(measured.at(-1))})\n`)
  }
  const figures: BenchReport['figures'] = realPeers === null ? { speedup } : { real_peers: realPeers }
  figures.processes = processes
  for (const s of measured) for (const [name, pick] of COSTS) figures[`peers_${s.peers}_${name}`] = pick(s)
  const [small, large] = [measured[0]!, measured.at(-1)!]
  for (const [name, pick] of COSTS) {
    if (small !== large && pick(small) > 0)
      figures[`ratio_${large.peers}_${small.peers}_${name}`] = Number((pick(large) / pick(small)).toFixed(2))
    if (measured.length >= 2) {
      const p = projected(measured, pick, PAPER_SIZE)
      figures[`paper_${PAPER_SIZE}_${name}`] = Number(Math.max(0, p.log).toFixed(2))
      figures[`paper_${PAPER_SIZE}_${name}_if_linear`] = Number(Math.max(0, p.linear).toFixed(2))
    }
  }
  const paper = paperRow(measured, PAPER_SIZE)
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'mesh-sim.svg')
  await mkdir(dirname(out), { recursive: true })
  await writeFile(out, plot(measured))
  return {
    name: 'mesh-sim',
    note: `${sizes.join(', ')} simulated peers, each size in a process of its own (createRippleNode over ${processes > 1 ? `TCP on loopback in ${processes} processes` : '@libp2p/memory'}, mainnet timing, clock sped up ${realPeers === null ? `${speedup}x` : `${realPeers}/N times`}), ${windowSimMs / 60_000} simulated minutes each after ${settleSimMs / 60_000} to settle, 10% churn an hour, a tenth of the peers runners of ${8} models, each other peer one request a minute; the record sharded (R = 8 by op hash and by author; cover every ${(slotSimMs ?? 60_000) / 1000} s simulated, answer batches each second a runner answered; real signed ops, held in memory; after the window a tenth leave at once, the hand-off has 10 s); per peer per simulated second, protocol payload bytes (no noise/yamux framing); the ${PAPER_SIZE} row fits a + b·log2 N to the measured sizes (figures paper_*_if_linear: a + b·N instead); plot bench/results/mesh-sim.svg`,
    rows: [...measured.map(tableRow), ...(paper === null ? [] : [paper])],
    figures,
  }
}
