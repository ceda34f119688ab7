/**
 * Where a peer keeps its data: `--data-dir`, else `$RIPPLE_HOME/<network>` (`~/.ripple/<network>`), so
 * a restart keeps the agent key and the mesh it created or joined (and its admin role) with no flag.
 * `--ephemeral` runs in a fresh session dir under the OS temp dir instead, removed when it stops.
 * Every data dir is 0700.
 */
import { mkdtemp } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { ensurePrivateDir } from '../storage/private-files.ts'
import { checkDataDirFormat, recordDataDirFormat } from './data-dir-format.ts'

/** Overrides `~/.ripple`, the parent of every default data dir. */
export const RIPPLE_HOME_ENV = 'RIPPLE_HOME'

export interface DataDir {
  path: string
  /** True for a throwaway session dir, deleted on a graceful stop. */
  session: boolean
}

/** Parent of every session dir, so the CLI can find a running session daemon without being told. */
export function sessionsRoot(): string {
  return join(tmpdir(), 'ripple-sessions')
}

/** Parent of every default data dir. */
export function rippleHome(): string {
  return resolve(process.env[RIPPLE_HOME_ENV] || join(homedir(), '.ripple'))
}

/**
 * `given`, else a session dir when `ephemeral`, else the network's default data dir. A dir a newer
 * release wrote is refused before anything in it changes (DataDirFormatError); any other is brought to
 * this release's format and recorded as opened by it.
 */
export async function prepareDataDir(
  network: string,
  given: string | undefined,
  ephemeral = false,
): Promise<DataDir> {
  if (ephemeral && given === undefined) {
    await ensurePrivateDir(sessionsRoot())
    const path = await mkdtemp(join(sessionsRoot(), `${network}-`))
    await ensurePrivateDir(path)
    await recordDataDirFormat(path)
    return { path, session: true }
  }
  const path = given !== undefined ? resolve(given) : join(rippleHome(), network)
  await checkDataDirFormat(path)
  await ensurePrivateDir(path)
  await recordDataDirFormat(path)
  return { path, session: false }
}
