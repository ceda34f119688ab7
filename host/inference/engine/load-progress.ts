/**
 * How far a llama-server's model load is: its resident memory against the model's bytes. This
 * llama.cpp reports load progress only to its own router (a standalone server prints nothing of it),
 * and every byte of the weights passes through the process's memory as it loads them, whether it
 * computes on them or sends them to a GPU or an RPC worker.
 */
import { readFile } from 'node:fs/promises'

/** Percent loaded for `resident` of `expected` bytes: below 100 until the server says it is ready. */
export function loadPercent(resident: number, expected: number): number {
  if (!(expected > 0) || !(resident > 0)) return 0
  return Math.min(99, Math.floor((resident * 100) / expected))
}

/** A process's resident memory in bytes (Linux's /proc), or null where it cannot be read. */
export async function residentBytes(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]
    return kb === undefined ? null : Number(kb) * 1024
  } catch {
    return null
  }
}
