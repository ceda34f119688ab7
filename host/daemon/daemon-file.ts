/**
 * `<dataDir>/daemon.json`: how the CLI finds the daemon running on a data dir (its API URL) and
 * which process it is (the daemon's own pid, not a wrapper's).
 */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'

export const DaemonFileSchema = z.object({
  pid: z.number().int().positive(),
  api_url: z.string().url(),
  network: z.string(),
  agent: z.string(),
  data_dir: z.string(),
  started_at: z.string(),
})
export type DaemonFile = z.infer<typeof DaemonFileSchema>

export function daemonFilePath(dataDir: string): string {
  return join(dataDir, 'daemon.json')
}

export async function writeDaemonFile(dataDir: string, file: DaemonFile): Promise<void> {
  await writeFile(daemonFilePath(dataDir), `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 })
}

/** The daemon file of `dataDir`, or null when there is none or it is not one of ours. */
export async function readDaemonFile(dataDir: string): Promise<DaemonFile | null> {
  let raw: string
  try {
    raw = await readFile(daemonFilePath(dataDir), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  try {
    const parsed = DaemonFileSchema.safeParse(JSON.parse(raw))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

export async function removeDaemonFile(dataDir: string): Promise<void> {
  await rm(daemonFilePath(dataDir), { force: true })
}
