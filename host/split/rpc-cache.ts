/**
 * The split worker's tensor cache (`<data-dir>/rpc-cache`, where ggml-rpc-server keeps every tensor it
 * received over 10 MiB, by hash) has a size: llama.cpp's users report caches of 500 GB and more, and a
 * disk filled by it corrupted output. Over its cap the least recently used tensors go (their last read
 * or write); a tensor gone is only sent again by the next head that needs it. A file deleted while the
 * server reads it stays readable to it until closed (Linux), so keeping runs while the worker does.
 */
import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { freeDiskBytes } from '../hardware/free-disk.ts'
import type { Logger } from '../log/logger.ts'

export interface CachedTensor {
  path: string
  bytes: number
  /** Its last read or write (ms since the epoch). */
  usedAt: number
}

/** The share of the free disk the cache may take when `--rpc-cache-size` is not given. */
const DEFAULT_DISK_SHARE = 0.25
/** How often the cache is held to its cap while the worker runs. */
export const KEEP_EVERY_MS = 60_000

/** The files to delete, least recently used first, so the rest fit in `capBytes`. */
export function planCacheTrim(files: readonly CachedTensor[], capBytes: number): string[] {
  let total = files.reduce((sum, f) => sum + f.bytes, 0)
  const trim: string[] = []
  for (const file of [...files].sort((a, b) => a.usedAt - b.usedAt)) {
    if (total <= capBytes) break
    trim.push(file.path)
    total -= file.bytes
  }
  return trim
}

/** The cap when none was given: a quarter of what is free on the disk holding the cache now. */
export async function defaultCacheCap(dir: string): Promise<number> {
  return Math.floor((await freeDiskBytes(dir)) * DEFAULT_DISK_SHARE)
}

/** Every file under the cache dir (none when it does not exist yet). */
export async function cachedTensors(dir: string): Promise<CachedTensor[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return []
      throw err
    },
  )
  const files = await Promise.all(
    entries
      .filter((e) => e.isFile())
      .map(async (e) => {
        const path = join(e.parentPath, e.name)
        const s = await stat(path).catch(() => null)
        return s === null ? null : { path, bytes: s.size, usedAt: Math.max(s.atimeMs, s.mtimeMs) }
      }),
  )
  return files.filter((f): f is CachedTensor => f !== null)
}

/** What the cache holds now, against its cap. */
export interface CacheUse {
  bytes: number
  cap_bytes: number
}

/** Holds the cache to its cap; answers what it holds after. */
export async function keepCache(dir: string, capBytes: number, logger: Logger): Promise<CacheUse> {
  const files = await cachedTensors(dir)
  const trim = new Set(planCacheTrim(files, capBytes))
  for (const path of trim) await rm(path, { force: true })
  const bytes = files.filter((f) => !trim.has(f.path)).reduce((sum, f) => sum + f.bytes, 0)
  if (trim.size > 0)
    logger.info({ removed: trim.size, bytes, cap_bytes: capBytes }, 'trimmed the RPC tensor cache to its cap')
  return { bytes, cap_bytes: capBytes }
}
