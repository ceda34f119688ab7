/**
 * Where the Holochain tools are: the directory `scripts/build-holochain.sh` builds them into (the versions
 * pinned in `scripts/holochain-versions.env`), else PATH (`nix develop`, a system install). The built
 * directory comes first because its versions are the ones the zomes, @holochain/client and tryorama fit.
 *
 * @example
 * findHolochainTool('holochain') // '/home/me/.cache/ripple/holochain/0.6.0/bin/holochain', or null
 */
import { accessSync, constants, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import { repoPath } from '../../runtime/repo-root.ts'

export const HOLOCHAIN_TOOLS = ['holochain', 'hc', 'lair-keystore', 'kitsune2-bootstrap-srv'] as const
export type HolochainTool = (typeof HOLOCHAIN_TOOLS)[number]

export const BUILD_TOOLS_COMMAND = 'bash scripts/build-holochain.sh'

/** The pinned versions (`HOLOCHAIN_VERSION=0.6.0`...), read from the one file the build script reads. */
export function pinnedVersions(): Record<string, string> {
  const text = readFileSync(repoPath('scripts', 'holochain-versions.env'), 'utf8')
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => /^([A-Z0-9_]+)=(\S+)$/.exec(line.trim()))
      .filter((m) => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  )
}

/** The bin directory the build script installs into (it may not exist yet). */
export function builtToolsDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.RIPPLE_HOLOCHAIN_HOME || join(homedir(), '.cache', 'ripple', 'holochain')
  return join(home, pinnedVersions().HOLOCHAIN_VERSION ?? 'unknown', 'bin')
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

export function findOnPath(binary: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir !== '' && executable(join(dir, binary))) return join(dir, binary)
  }
  return null
}

export function findHolochainTool(tool: HolochainTool, env: NodeJS.ProcessEnv = process.env): string | null {
  const built = join(builtToolsDir(env), tool)
  return executable(built) ? built : findOnPath(tool, env.PATH ?? '')
}

/** The tools of `wanted` found neither built nor on PATH. */
export function missingHolochainTools(
  wanted: readonly HolochainTool[],
  env: NodeJS.ProcessEnv = process.env,
): HolochainTool[] {
  return wanted.filter((tool) => findHolochainTool(tool, env) === null)
}

/**
 * PATH with the built tools' directory first, for programs that look the tools up by name themselves
 * (tryorama spawns `hc`, `holochain` and `kitsune2-bootstrap-srv`).
 */
export function pathWithBuiltTools(env: NodeJS.ProcessEnv = process.env): string {
  return [builtToolsDir(env), env.PATH ?? ''].filter((p) => p !== '').join(delimiter)
}
