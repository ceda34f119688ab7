/**
 * How `ripple status` / `ripple peers` reach a running daemon: through `daemon.json` and the API
 * token in its data dir, or an explicit `--api-url` + `--token`.
 */
import { readdir } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { readApiToken } from '../api/api-token.ts'
import type { ApiErrorBody } from '../api/error-reply.ts'
import { processAlive, readDaemonFile } from '../daemon/daemon-file.ts'
import { sessionsRoot } from '../daemon/data-dir.ts'

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

/** Thrown when the daemon answers a request with an error. */
export class ApiRequestError extends Error {
  static override readonly name = 'ApiRequestError'
  constructor(
    readonly status: number,
    readonly errorName: string,
    message: string,
  ) {
    super(`${errorName} (HTTP ${status}): ${message}`)
    this.name = 'ApiRequestError'
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

/** Without --data-dir: the one data dir (session or `~/.ripple/<network>`) with a live daemon. */
export async function onlyRunningDataDir(): Promise<string> {
  const roots = [sessionsRoot(), join(homedir(), '.ripple')]
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

export function getJson<T>(target: DaemonTarget, path: string): Promise<T> {
  return request<T>(target, 'GET', path)
}

/** POSTs `body` as JSON (or no body when absent) and returns the JSON answer. */
export function postJson<T>(target: DaemonTarget, path: string, body?: unknown): Promise<T> {
  return request<T>(target, 'POST', path, body)
}

async function request<T>(
  target: DaemonTarget,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await send(target, path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return (await res.json()) as T
}

/** A request whose answer streams (server-sent events): the open response, for the caller to read as it arrives. */
export function openStream(
  target: DaemonTarget,
  path: string,
  method: 'GET' | 'POST' = 'GET',
  body?: unknown,
): Promise<Response> {
  const headers: Record<string, string> = { accept: 'text/event-stream' }
  if (body === undefined) return send(target, path, { method, headers })
  return send(target, path, {
    method,
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

/** Sends with the token; throws NoDaemonRunningError or ApiRequestError unless the daemon says ok. */
async function send(
  target: DaemonTarget,
  path: string,
  init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
): Promise<Response> {
  let res: Response
  try {
    res = await fetch(`${target.apiUrl}${path}`, {
      ...init,
      headers: { ...init.headers, authorization: `Bearer ${target.token}` },
    })
  } catch {
    throw new NoDaemonRunningError(`no daemon answers at ${target.apiUrl}; start one with \`ripple up\``)
  }
  if (!res.ok) {
    const answer: unknown = await res.json().catch(() => null)
    const error = (answer as ApiErrorBody | null)?.error
    throw new ApiRequestError(res.status, error?.name ?? 'HttpError', error?.message ?? res.statusText)
  }
  return res
}
