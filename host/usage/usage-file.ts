/**
 * This peer's usage at start and across restarts. At start the rows are rebuilt from its own signed
 * windows (`list_own_windows`: the AnswerLeaves and ServedLeaves on its chain, 31 days of them), so
 * its totals, and the policies that read them ("2M tokens a day"), are what it signed. `usage.json`
 * in the data dir keeps what the leaves do not carry (each row's API key and reasoning tokens): read
 * at start and laid over the leaves' rows where its counts agree (usage-rebuild.ts), written a second
 * after a window is signed and at stop, whole to a temporary file then renamed. A file that does not
 * read as rows is set aside (`usage.json.bad`), not lost; without one, the keys of those hours are
 * unknown and the totals the same.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { z } from 'zod'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { Startable } from '../interface/startable.ts'
import type { Logger } from '../log/logger.ts'
import { KEEP_MS } from './usage-ledger.ts'
import type { UsagePort } from './usage-port.ts'
import { reconcile, rowsOfWindows } from './usage-rebuild.ts'
import { type UsageRow, UsageRowSchema } from './usage-totals.ts'

const WRITE_AFTER_MS = 1000

const RowsSchema = z.array(UsageRowSchema)

/** `conductor` runs already when this starts: the node signs nothing before it (first in, last out). */
export function keepUsage(
  ledger: Pick<UsagePort, 'rows' | 'replace' | 'onEvents'>,
  conductor: Pick<ConductorPort, 'callZome'>,
  path: string,
  logger: Logger,
): Startable {
  let timer: NodeJS.Timeout | null = null
  let unsubscribe = () => {}
  // One write at a time: a slow write overlapped by the next one shared its temporary file, and the
  // second rename found it gone.
  let writing: Promise<void> = Promise.resolve()
  const writeOnce = async () => {
    const temporary = `${path}.${process.pid}.tmp`
    await writeFile(temporary, JSON.stringify(ledger.rows(Date.now() - KEEP_MS)), { mode: 0o600 })
    await rename(temporary, path)
  }
  const write = () => {
    timer = null
    writing = writing.catch(() => {}).then(writeOnce)
    return writing
  }
  const writeSoon = () => {
    timer ??= setTimeout(
      () => void write().catch((err: unknown) => logger.warn({ err }, 'could not keep usage')),
      WRITE_AFTER_MS,
    )
  }
  return {
    start: async () => {
      const kept = await readKept(path, logger)
      const since = (Date.now() - KEEP_MS) * 1000
      const windows = await conductor.callZome('resource_mesh', 'list_own_windows', since)
      ledger.replace(reconcile(rowsOfWindows(windows), kept))
      unsubscribe = ledger.onEvents(writeSoon)
    },
    stop: async () => {
      unsubscribe()
      if (timer !== null) clearTimeout(timer)
      await write()
    },
  }
}

/** The rows kept in `path` (none when there is no file; a file that does not read is set aside). */
async function readKept(path: string, logger: Logger): Promise<UsageRow[]> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null
    throw err
  })
  if (text === null) return []
  const rows = readRows(text)
  if (rows !== null) return rows
  await rename(path, `${path}.bad`)
  logger.warn({ path: `${path}.bad` }, 'usage file unreadable: set aside, API keys of past usage unknown')
  return []
}

function readRows(text: string) {
  try {
    const rows = RowsSchema.safeParse(JSON.parse(text))
    return rows.success ? rows.data : null
  } catch {
    return null
  }
}
