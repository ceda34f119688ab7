/** The machine a bench ran on and the commit it ran at, as a recorded run keeps them. */
import { execFileSync } from 'node:child_process'
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'
import si from 'systeminformation'
import type { Machine } from './bench-data.ts'

export async function thisMachine(): Promise<Machine> {
  const [os, system] = await Promise.all([si.osInfo(), si.system()])
  return {
    cpu: cpus()[0]?.model.trim() ?? null,
    cores: availableParallelism(),
    memory_gib: Math.round(totalmem() / 2 ** 30),
    os: [os.distro, os.release].filter(Boolean).join(' ') || os.platform,
    node: process.versions.node,
    virtual: system.virtual,
    load_average_1m: Math.round((loadavg()[0] ?? 0) * 10) / 10,
  }
}

export function thisCommit(): { commit: string; dirty: boolean } {
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim()
  return { commit: git('rev-parse', '--short', 'HEAD'), dirty: git('status', '--porcelain').length > 0 }
}
