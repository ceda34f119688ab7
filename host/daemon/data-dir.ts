/**
 * Where a peer keeps its data. The `local` network is for trying the mesh: unless `--data-dir`
 * is given, each `ripple up` gets a fresh session dir under the OS temp dir, removed when it stops.
 * Other networks keep their data in `~/.ripple/<network>` by default. Every data dir is 0700.
 */
import { mkdtemp } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { ensurePrivateDir } from '../storage/private-files.ts'

export interface DataDir {
  path: string
  /** True for a throwaway session dir, deleted on a graceful stop. */
  session: boolean
}

/** Parent of every session dir, so the CLI can find a running session daemon without being told. */
export function sessionsRoot(): string {
  return join(tmpdir(), 'ripple-sessions')
}

export function defaultDataDir(network: string): string {
  return join(homedir(), '.ripple', network)
}

export async function prepareDataDir(network: string, given: string | undefined): Promise<DataDir> {
  if (given !== undefined) {
    const path = resolve(given)
    await ensurePrivateDir(path)
    return { path, session: false }
  }
  if (network === 'local') {
    await ensurePrivateDir(sessionsRoot())
    const path = await mkdtemp(join(sessionsRoot(), 'local-'))
    await ensurePrivateDir(path)
    return { path, session: true }
  }
  const path = defaultDataDir(network)
  await ensurePrivateDir(path)
  return { path, session: false }
}
