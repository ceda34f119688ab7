/**
 * A process's system calls counted by strace (`strace -c -f -p`) while it runs: on loopback a write's
 * syscall pays for the receiver's network stack too, so their count is a request's cost to read.
 */
import { spawn } from 'node:child_process'

export interface SyscallCount {
  name: string
  calls: number
  seconds: number
}

/** Counts `pid`'s calls (its threads' too) until `stop`. */
export function syscallCounts(pid: number): { stop: () => Promise<SyscallCount[]> } {
  const strace = spawn('strace', ['-c', '-f', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] })
  let report = ''
  strace.stderr.on('data', (chunk: Buffer) => {
    report += chunk.toString('utf8')
  })
  const exited = new Promise<void>((resolve) => strace.once('exit', () => resolve()))
  return {
    stop: async () => {
      strace.kill('SIGINT')
      await exited
      return parseSummary(report)
    },
  }
}

/** strace -c's table: `% time  seconds  usecs/call  calls  [errors]  syscall`. */
export function parseSummary(report: string): SyscallCount[] {
  const rows: SyscallCount[] = []
  for (const line of report.split('\n')) {
    const cells = line.trim().split(/\s+/)
    const name = cells.at(-1) ?? ''
    if (
      cells.length < 5 ||
      !/^[a-z_0-9]+$/.test(name) ||
      name === 'total' ||
      !/^[\d.]+$/.test(cells[0] ?? '')
    )
      continue
    rows.push({ name, seconds: Number(cells[1]), calls: Number(cells[3]) })
  }
  return rows.sort((a, b) => b.calls - a.calls)
}

/** The calls per request, most first, as a table. */
export function perRequest(counts: SyscallCount[], requests: number): string {
  const lines = ['| calls/request | syscall |', '| --- | --- |']
  for (const c of counts.slice(0, 12)) lines.push(`| ${(c.calls / requests).toFixed(1)} | ${c.name} |`)
  return lines.join('\n')
}
