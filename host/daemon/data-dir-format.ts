/**
 * The data dir's format and the release that last opened it, in `release.json`: read before anything
 * in the dir is touched, so a dir a newer release wrote is refused as newer (naming both versions)
 * rather than misread, and an older one is migrated forward and kept. A dir without the file was last
 * opened by 0.1.0 (format 1), which wrote none.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { PROTOCOLS, RELEASE } from '../interface/release.ts'
import { newerFormatText } from '../interface/version-gap.ts'
import { PRIVATE_FILE_MODE } from '../storage/private-files.ts'

export const DATA_DIR_RECORD = 'release.json'

/** Lenient: a newer release may add fields; the format number alone decides. */
const DataDirRecordSchema = z.object({
  data_dir_format: z.number().int().positive(),
  release: z.string().min(1).max(64),
})
export type DataDirRecord = z.infer<typeof DataDirRecordSchema>

/** The data dir was written by a newer release (or its record is unreadable): nothing in it was touched. */
export class DataDirFormatError extends Error {
  static override readonly name = 'DataDirFormatError'
  constructor(message: string) {
    super(message)
    this.name = 'DataDirFormatError'
  }
}

/**
 * The data dir's record, null when it has none (a new dir, or one 0.1.0 wrote: format 1); throws
 * DataDirFormatError when a newer format wrote it. Reads only.
 */
export async function checkDataDirFormat(dir: string): Promise<DataDirRecord | null> {
  let text: string
  try {
    text = await readFile(join(dir, DATA_DIR_RECORD), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    return null
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = null
  }
  const parsed = DataDirRecordSchema.safeParse(json)
  if (!parsed.success) {
    throw new DataDirFormatError(
      `data dir ${dir}: ${DATA_DIR_RECORD} is unreadable; nothing was changed (remove it only if a Ripple of ${RELEASE} or older wrote this dir)`,
    )
  }
  const record = parsed.data
  if (record.data_dir_format > PROTOCOLS.data_dir) {
    throw new DataDirFormatError(
      `${newerFormatText(
        `data dir ${dir} was last opened`,
        `data dir format ${record.data_dir_format}, Ripple ${record.release}`,
        PROTOCOLS.data_dir,
        RELEASE,
      )}; nothing in it was changed`,
    )
  }
  return record
}

/**
 * Brings a data dir of an older (or the same) format forward to this release's and records this
 * release as the last to open it. Nothing changes in the layout between formats 1 and the current one
 * yet: a migration goes here when one does.
 */
export async function recordDataDirFormat(dir: string): Promise<void> {
  const record: DataDirRecord = { data_dir_format: PROTOCOLS.data_dir, release: RELEASE }
  const path = join(dir, DATA_DIR_RECORD)
  const staged = `${path}.tmp`
  await writeFile(staged, `${JSON.stringify(record)}\n`, { mode: PRIVATE_FILE_MODE })
  await rename(staged, path)
}
