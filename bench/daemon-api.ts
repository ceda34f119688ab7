/** A `ripple up` process a benchmark started, and calls to its API. */
import type { RunningRipple } from '../tests/e2e/ripple-process.ts'

export interface Daemon {
  process: RunningRipple
  api: string
  token: string
}

/** GET (or POST `body` as JSON) to the daemon's API; throws on a non-2xx answer. */
export async function call<T>(daemon: Daemon, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${daemon.api}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${daemon.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
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
