/** The arithmetic and waiting every benchmark shares. */
import { readdir, readFile } from 'node:fs/promises'

/** Nearest-rank percentile of unsorted values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

export const round = (x: number, digits = 1): number => Number(x.toFixed(digits))

/** The middle value (the upper one of an even count), as every table here reports it; NaN when none. */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN
}

/** a / b to three decimals: the ratio column of every comparison against an anchor. */
export const ratio = (a: number, b: number): number => round(a / b, 3)

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `condition` every 50 ms; throws naming `what` when `timeoutMs` runs out. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(everyMs)
  }
}

/** Resident memory of a process in MiB (Linux: VmRSS from /proc). */
export async function rssMb(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises')
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1] ?? Number.NaN)
  return round(kb / 1024)
}

/** CPU time (user + system, ms) of a process and all its descendants so far, from /proc (Linux). */
export async function treeCpuMs(pid: number): Promise<number> {
  const stats = new Map<number, { ppid: number; ms: number }>()
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null)
    if (stat === null) continue
    stats.set(Number(entry), cpuOfStat(stat))
  }
  let total = 0
  const pending = [pid]
  while (pending.length > 0) {
    const current = pending.pop()!
    total += stats.get(current)?.ms ?? 0
    for (const [child, s] of stats) if (s.ppid === current) pending.push(child)
  }
  return total
}

/** CPU time (user + system, ms) of this one process, not its children. */
export async function ownCpuMs(pid: number): Promise<number> {
  return cpuOfStat(await readFile(`/proc/${pid}/stat`, 'utf8')).ms
}

/**
 * CPU time (ms) of a process's main thread and of its other threads (for Node, V8's helpers: the
 * garbage collector's and the optimizing compiler's work; the libuv pool), from /proc/<pid>/task.
 */
export async function threadCpuMs(pid: number): Promise<{ main: number; helpers: number }> {
  let helpers = 0
  let main = 0
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => null)
    if (stat === null) continue
    if (Number(tid) === pid) main = cpuOfStat(stat).ms
    else helpers += cpuOfStat(stat).ms
  }
  return { main, helpers }
}

/** A process's parent and CPU time (ms) from its /proc/<pid>/stat line. */
function cpuOfStat(stat: string): { ppid: number; ms: number } {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // utime and stime in clock ticks (100 per second on Linux).
  return { ppid: Number(fields[1]), ms: (Number(fields[11]) + Number(fields[12])) * 10 }
}

/** Milliseconds per call, one call at a time, after `warmup` untimed calls (given negative indexes). */
export async function timeEach(
  call: (i: number) => Promise<unknown>,
  { calls, warmup }: { calls: number; warmup: number },
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await call(-i - 1)
  const samples: number[] = []
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now()
    await call(i)
    samples.push(performance.now() - t0)
  }
  return samples
}
