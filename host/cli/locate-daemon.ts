/**
 * How the CLI's commands (and `ripple mcp`) reach a running daemon: through `daemon.json` and the API
 * token in its data dir, or an explicit `--api-url` + `--token`; they then talk to it with the typed
 * client.
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { readApiToken } from '../api/api-token.ts'
import { ApiClient } from '../api/client/index.ts'
import { readDaemonFile } from '../daemon/daemon-file.ts'
import { rippleHome, sessionsRoot } from '../daemon/data-dir.ts'
import { processAlive } from '../runtime/process-alive.ts'

export interface DaemonTarget {
  apiUrl: string
  token: string
}

export interface LocateOptions {
  dataDir?: string
  apiUrl?: string
  token?: string
}

/** Thrown when no live daemon is found where the CLI looked. */
export class NoDaemonRunningError extends Error {
  static override readonly name = 'NoDaemonRunningError'
  constructor(message: string) {
    super(message)
    this.name = 'NoDaemonRunningError'
  }
}

/** Thrown when several daemons run and the CLI cannot tell which one is meant. */
export class AmbiguousDaemonError extends Error {
  static override readonly name = 'AmbiguousDaemonError'
  constructor(dataDirs: readonly string[]) {
    super(`several ripple daemons are running; pick one with --data-dir:\n  ${dataDirs.join('\n  ')}`)
    this.name = 'AmbiguousDaemonError'
  }
}

export async function locateDaemon(options: LocateOptions): Promise<DaemonTarget> {
  if (options.apiUrl !== undefined) {
    const token = options.token ?? (options.dataDir ? await readApiToken(options.dataDir) : null)
    if (token === null)
      throw new NoDaemonRunningError('--api-url needs --token (or --data-dir holding api-token)')
    return { apiUrl: options.apiUrl, token }
  }
  const dataDir = options.dataDir ?? (await onlyRunningDataDir())
  const file = await readDaemonFile(dataDir)
  const token = await readApiToken(dataDir)
  if (file === null || token === null || !processAlive(file.pid)) {
    throw new NoDaemonRunningError(`no daemon running for data dir ${dataDir}; start one with \`ripple up\``)
  }
  return { apiUrl: file.api_url, token: options.token ?? token }
}

/** Without --data-dir: the one data dir (session or `$RIPPLE_HOME/<network>`) with a live daemon. */
export async function onlyRunningDataDir(): Promise<string> {
  const roots = [sessionsRoot(), rippleHome()]
  const live: string[] = []
  for (const root of roots) {
    const names = await readdir(root).catch(() => [] as string[])
    for (const name of names) {
      const file = await readDaemonFile(join(root, name))
      if (file && processAlive(file.pid)) live.push(file.data_dir)
    }
  }
  if (live.length > 1) throw new AmbiguousDaemonError(live)
  const [dataDir] = live
  if (dataDir === undefined) {
    throw new NoDaemonRunningError(
      `no daemon running (looked in ${roots.join(' and ')}); start one with \`ripple up\`, or pass --data-dir`,
    )
  }
  return dataDir
}

/** The typed client of the daemon `options` point at. */
export async function connectDaemon(options: LocateOptions): Promise<ApiClient> {
  const target = await locateDaemon(options)
  return new ApiClient({ baseUrl: target.apiUrl, token: target.token })
}
