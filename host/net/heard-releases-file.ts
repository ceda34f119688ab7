/**
 * The release statements this peer heard, kept in the data dir (`heard-releases.json`,
 * ./heard-releases.ts) so that a restart keeps them. Without them a restarted peer took every member
 * for a release before 0.2.0 until it heard it again, so records stayed unsharded (every op stored,
 * validated and caught up, the full-replication reads) through its start window (the registry awaits
 * every member on record until a member silent since the start would count offline: 30 to 60 s by
 * network) and, for a member heard only on a model's topic (news there states no release), until that
 * member's mesh-wide beat came round (minutes in a big mesh).
 * Recalled before the node starts; written a few seconds after a member states a release it had not
 * (not at each heartbeat saying the same) and at stop, whole to a temporary file then renamed. A file
 * that does not read is only a loss of what it kept: warned of, then written over.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../log/logger.ts'
import { PRIVATE_FILE_MODE } from '../storage/private-files.ts'
import { decodeHeard, encodeHeard } from './heard-releases.ts'
import type { HeardStatement, PeerVersions } from './mesh-versions.ts'

export const HEARD_RELEASES_FILE = 'heard-releases.json'

/** Statements heard within this of each other go in one write (a joiner hears hundreds in its first minutes). */
const WRITE_AFTER_MS = 5_000

export interface HeardReleases {
  /** Writes what is held now (a failure is warned of: only what it kept is lost) and stops writing. */
  close(): Promise<void>
}

/** Recalls into `versions` what `dataDir` kept, and keeps it from now on. */
export async function keepHeardReleases(
  dataDir: string,
  versions: Pick<PeerVersions, 'recall' | 'heard' | 'onChange'>,
  logger: Logger,
): Promise<HeardReleases> {
  const path = join(dataDir, HEARD_RELEASES_FILE)
  versions.recall(await readKept(path, logger))
  let timer: NodeJS.Timeout | null = null
  // One write at a time: two overlapping writes would share the temporary file.
  let writing: Promise<void> = Promise.resolve()
  const write = () => {
    timer = null
    writing = writing
      .catch(() => {})
      .then(async () => {
        const temporary = `${path}.${process.pid}.tmp`
        await writeFile(temporary, encodeHeard(versions.heard()), { mode: PRIVATE_FILE_MODE })
        await rename(temporary, path)
      })
    return writing
  }
  const written = () =>
    write().catch((err: unknown) => logger.warn({ err, path }, 'could not keep the releases heard'))
  const unsubscribe = versions.onChange(() => {
    if (timer !== null) return
    timer = setTimeout(written, WRITE_AFTER_MS)
    // What is heard is written at stop anyway: this timer alone keeps no process alive.
    timer.unref()
  })
  return {
    close: async () => {
      unsubscribe()
      if (timer !== null) clearTimeout(timer)
      await written()
    },
  }
}

/** What `path` kept; none when it is absent or cannot be read (a loss of what it kept only, warned of). */
async function readKept(path: string, logger: Logger): Promise<HeardStatement[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      logger.warn({ err, path }, 'cannot read the releases heard before: every member counts as unheard')
    return []
  }
  const kept = decodeHeard(text, Date.now())
  if (kept === null)
    logger.warn({ path }, 'the releases heard before are unreadable: every member counts as unheard')
  else if (kept.unreadable > 0)
    logger.warn(
      { path, unreadable: kept.unreadable },
      'skipped unreadable entries of the releases heard before',
    )
  return kept?.heard ?? []
}
