/**
 * The data dir holds the agent key, the API token and every op: only its owner may read it. Modes
 * given to mkdir/open are filtered by the umask and ignored for what already exists, so each is
 * set explicitly (chmod) whatever the umask or the mode an existing dir or file had.
 */
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs'
import { chmod, mkdir } from 'node:fs/promises'

export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/** Creates `path` (and its parents) if needed and makes it 0700. */
export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: PRIVATE_DIR_MODE })
  await chmod(path, PRIVATE_DIR_MODE)
}

/** Creates `path` empty if it does not exist and makes it 0600 (sync: stores open synchronously). */
export function ensurePrivateFileSync(path: string): void {
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE))
  chmodSync(path, PRIVATE_FILE_MODE)
}

/** Makes each of `paths` that exists 0600. */
export function tightenIfPresentSync(paths: readonly string[]): void {
  for (const path of paths) if (existsSync(path)) chmodSync(path, PRIVATE_FILE_MODE)
}
