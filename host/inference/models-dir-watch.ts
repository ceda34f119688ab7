/**
 * A new file is a model at once: the models directory is watched, and once a change has settled (the
 * `.gguf` files' sizes and times the same on two looks in a row: a copy in progress keeps growing) the
 * manager is told, which re-advertises the capability. Without it a copied file waited for the next
 * capability refresh (about 30 s), and `/v1` on that very peer answered 404 until then.
 */
import { type FSWatcher, watch } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../log/logger.ts'

/** How long apart two looks at the directory are; a change is told after two equal looks. */
export const SETTLE_MS = 250

export interface ModelsDirWatch {
  close(): void
}

export function watchModelsDir(dir: string, onSettled: () => void, logger: Logger): ModelsDirWatch {
  let timer: NodeJS.Timeout | undefined
  let last: string | null = null
  let closed = false
  const look = async () => {
    timer = undefined
    const now = await snapshot(dir).catch(() => null)
    if (closed) return
    if (now !== null && now === last) {
      last = null
      onSettled()
      return
    }
    last = now
    schedule()
  }
  const schedule = () => {
    if (timer === undefined && !closed) timer = setTimeout(() => void look(), SETTLE_MS).unref()
  }
  let watcher: FSWatcher | null = null
  try {
    watcher = watch(dir, { persistent: false }, () => {
      last = null
      schedule()
    })
    watcher.on('error', (err) => logger.warn({ err, dir }, 'stopped watching the models directory'))
  } catch (err) {
    // The periodic capability refresh still finds new files, only later.
    logger.warn({ err, dir }, 'cannot watch the models directory: new files are found at the next refresh')
  }
  return {
    close() {
      closed = true
      clearTimeout(timer)
      watcher?.close()
    },
  }
}

/** The `.gguf` files' names, sizes and modification times, as one string to compare. */
async function snapshot(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.gguf')).sort()
  const parts = await Promise.all(
    names.map(async (n) => {
      const s = await stat(join(dir, n)).catch(() => null)
      return s === null ? `${n}:gone` : `${n}:${s.size}:${s.mtimeMs}`
    }),
  )
  return parts.join('\n')
}
