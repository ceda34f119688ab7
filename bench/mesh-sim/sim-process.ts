/**
 * How a process of the simulation is started (a size's own, sim-size.ts, and each process of a split
 * mesh, split-host.ts): TypeScript through tsx, a heap ceiling of most of the machine's memory (its
 * share of it for one of several processes: their collectors must not all wait for the whole), and
 * 64 MB semi-spaces (16 by default): the collector's time is all scavenges (the peers allocate ~200 MB
 * a real second), and a peer's streams and timers live simulated seconds, many real ones on a slowed
 * clock, so a small young generation copies them again and again. At 100 peers: 625 scavenges in the
 * window instead of 2,157, 15% of real time instead of 20. `gc()`: the live heap at the window's end.
 */
import { totalmem } from 'node:os'

export function simNodeArgs(share = 1): string[] {
  const heapMb = Math.floor((totalmem() / 2 ** 20) * 0.75 * share)
  return [`--max-old-space-size=${heapMb}`, '--max-semi-space-size=64', '--expose-gc', '--import', 'tsx']
}
