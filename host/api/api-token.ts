/**
 * The API's bearer token, kept in `<dataDir>/api-token` (mode 0600) so the CLI on the same
 * machine can read it and a restarted daemon keeps the same one.
 */
import { randomBytes } from 'node:crypto'
import { chmod, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export function apiTokenPath(dataDir: string): string {
  return join(dataDir, 'api-token')
}

/** Reads the token, creating it on first start; tightens the file's mode if someone loosened it. */
export async function loadOrCreateApiToken(dataDir: string): Promise<string> {
  const path = apiTokenPath(dataDir)
  const existing = await readApiToken(dataDir)
  if (existing !== null) {
    if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600)
    return existing
  }
  const token = randomBytes(32).toString('base64url')
  // `wx`: if another process created it in between, fail rather than overwrite its token.
  await writeFile(path, `${token}\n`, { mode: 0o600, flag: 'wx' })
  return token
}

/** The token in `dataDir`, or null when there is none (no daemon ever started there). */
export async function readApiToken(dataDir: string): Promise<string | null> {
  try {
    const token = (await readFile(apiTokenPath(dataDir), 'utf8')).trim()
    return token === '' ? null : token
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}
