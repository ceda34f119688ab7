/**
 * What running the simulation cost this process over a window: how far its event loop ran behind, the
 * share of the window its garbage collector held the loop (perf_hooks' gc entries: the pauses, which the
 * loop delay includes), its CPU and its heap. A run whose loop falls seconds behind measures this
 * process's overload, not the protocol; these say whether the collector or the peers' own work did it.
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'

export interface ProcessFigures {
  /** The event loop's delay, p50 and p99 (ms real). */
  loopDelayMs: { p50: number; p99: number }
  /** Share of the window's real time spent in collector pauses (%). */
  gcPct: number
  /** The longest collector pause (ms real). */
  gcMaxMs: number
  /** Share of the window's real time in CPU, user and system, across all threads (% of one core). */
  cpuPct: number
  /** The heap in use at the window's end (MB; garbage not yet collected included). */
  heapUsedMb: number
  /** What of it a full collection keeps (MB); null where the process has no `gc()` (sim-size.ts gives it one). */
  heapLiveMb: number | null
  /** Resident memory at the window's end (MB). */
  rssMb: number
}

const collect = (globalThis as { gc?: () => void }).gc

export function processMeter(): { stop: () => ProcessFigures } {
  const loop = monitorEventLoopDelay({ resolution: 20 })
  let gcMs = 0
  let gcMaxMs = 0
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration
      gcMaxMs = Math.max(gcMaxMs, entry.duration)
    }
  })
  loop.enable()
  gc.observe({ entryTypes: ['gc'] })
  const start = performance.now()
  const cpu = process.cpuUsage()
  return {
    stop: () => {
      const spent = process.cpuUsage(cpu)
      const wallMs = performance.now() - start
      loop.disable()
      gc.disconnect()
      const heapUsedMb = process.memoryUsage().heapUsed / 2 ** 20
      collect?.()
      return {
        loopDelayMs: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6 },
        gcPct: (100 * gcMs) / wallMs,
        gcMaxMs,
        cpuPct: (100 * (spent.user + spent.system)) / 1000 / wallMs,
        heapUsedMb,
        heapLiveMb: collect ? process.memoryUsage().heapUsed / 2 ** 20 : null,
        rssMb: process.memoryUsage().rss / 2 ** 20,
      }
    },
  }
}

/**
 * The processes of one run as one: the worst loop delay and collector share of any process (each
 * process's peers run as far behind as its own loop), CPU, heap and memory summed.
 */
export function combined(processes: ProcessFigures[]): ProcessFigures {
  const max = (pick: (p: ProcessFigures) => number) => Math.max(0, ...processes.map(pick))
  const sum = (pick: (p: ProcessFigures) => number) => processes.reduce((a, p) => a + pick(p), 0)
  const live = processes.map((p) => p.heapLiveMb)
  return {
    loopDelayMs: { p50: max((p) => p.loopDelayMs.p50), p99: max((p) => p.loopDelayMs.p99) },
    gcPct: max((p) => p.gcPct),
    gcMaxMs: max((p) => p.gcMaxMs),
    cpuPct: sum((p) => p.cpuPct),
    heapUsedMb: sum((p) => p.heapUsedMb),
    heapLiveMb: live.some((l) => l === null) ? null : sum((p) => p.heapLiveMb ?? 0),
    rssMb: sum((p) => p.rssMb),
  }
}
