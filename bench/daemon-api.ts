/** `ripple up` processes a benchmark starts, each with a typed client of its API. */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ApiClient } from '../host/api/client/index.ts'
import { type RunningRipple, startRipple } from '../tests/e2e/ripple-process.ts'

export interface Daemon {
  process: RunningRipple
  api: ApiClient
  /** The API's base URL and token, for what the client does not read (/metrics). */
  url: string
  token: string
}

/** Starts `ripple up` on the network file with its own data dir, and a client of its API. */
export async function startDaemon(
  networkFile: string,
  dataDir: string,
  name: string,
  flags: readonly string[] = [],
): Promise<Daemon> {
  const args = ['--network', networkFile, '--data-dir', dataDir, '--api-port', '0', '--name', name, ...flags]
  const proc = await startRipple([...args, '--log-level', 'warn'], 120_000)
  const baseUrl = /^ripple: api (\S+)$/m.exec(proc.stdout())?.[1] ?? ''
  const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
  return { process: proc, api: new ApiClient({ baseUrl, token }), url: baseUrl, token }
}

/** Stops the daemons (SIGTERM) and waits until every one has exited. */
export async function stopDaemons(daemons: readonly Daemon[]): Promise<void> {
  await Promise.all(
    daemons.map(async (d) => {
      d.process.child.kill('SIGTERM')
      await d.process.exited
    }),
  )
}
