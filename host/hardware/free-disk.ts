import { statfs } from 'node:fs/promises'

/**
 * Bytes an unprivileged process may still write on the filesystem holding `dir`.
 * `statfs` asks the kernel about that exact path, where systeminformation's `fsSize` lists
 * mounts and would leave us to guess which mount holds the data dir.
 */
export async function freeDiskBytes(dir: string): Promise<number> {
  const stats = await statfs(dir)
  return stats.bavail * stats.bsize
}
