/**
 * The repository's root (where package.json, networks/, workdir/ and ui/ are), found by walking up from
 * this module: the same answer whether the host runs from its TypeScript sources (tsx) or from the
 * bundle in dist/, where every module shares one location.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'host'))) return dir
    if (dirname(dir) === dir) throw new Error(`no Ripple checkout above ${from}`)
  }
}

export const REPO_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)))

/** A path inside the repository. */
export const repoPath = (...parts: string[]): string => join(REPO_ROOT, ...parts)
