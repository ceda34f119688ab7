/**
 * This peer's usage rows kept in its data dir (`usage.json`), so its totals, and the policies that
 * read them ("2M tokens a day"), outlive a restart: read at start, written a second after a window
 * of leaves is signed and at stop, whole to a temporary file then renamed. Rows older than 31 days
 * are dropped. A file that does not read as rows is set aside (`usage.json.bad`), not lost.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { z } from 'zod'
import type { Startable } from '../interface/startable.ts'
import type { Logger } from '../log/logger.ts'
import type { UsageLedger } from './usage-ledger.ts'
import { UsageRowSchema } from './usage-totals.ts'

const KEEP_MS = 31 * 24 * 3_600_000
const WRITE_AFTER_MS = 1000

const RowsSchema = z.array(UsageRowSchema)

export function keepUsage(ledger: UsageLedger, path: string, logger: Logger): Startable {
  let timer: NodeJS.Timeout | null = null
  let unsubscribe = () => {}
  const write = async () => {
    timer = null
    const temporary = `${path}.${process.pid}.tmp`
    await writeFile(temporary, JSON.stringify(ledger.rows(Date.now() - KEEP_MS)), { mode: 0o600 })
    await rename(temporary, path)
  }
  const writeSoon = () => {
    timer ??= setTimeout(
      () => void write().catch((err: unknown) => logger.warn({ err }, 'could not keep usage')),
      WRITE_AFTER_MS,
    )
  }
  return {
    start: async () => {
      const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null
        throw err
      })
      if (text !== null) {
        const rows = readRows(text)
        if (rows !== null) ledger.restore(rows)
        else {
          await rename(path, `${path}.bad`)
          logger.warn({ path: `${path}.bad` }, 'usage file unreadable: set aside, totals start afresh')
        }
      }
      unsubscribe = ledger.onEvents(writeSoon)
    },
    stop: async () => {
      unsubscribe()
      if (timer !== null) clearTimeout(timer)
      await write()
    },
  }
}

function readRows(text: string) {
  try {
    const rows = RowsSchema.safeParse(JSON.parse(text))
    return rows.success ? rows.data : null
  } catch {
    return null
  }
}
