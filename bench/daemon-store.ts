/** What a running `ripple up` holds and has done, read from outside: its store's size and its /metrics. */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { CONDUCTOR_DB_FILE } from '../host/conductor/embedded/index.ts'
import type { Endpoint } from './chat-paths.ts'

/** The store's size as SQLite counts it: its pages, those committed in the WAL included. */
export function storeBytes(dataDir: string): number {
  const db = new Database(join(dataDir, CONDUCTOR_DB_FILE), { readonly: true, fileMustExist: true })
  try {
    const pages = db.pragma('page_count', { simple: true }) as number
    return pages * (db.pragma('page_size', { simple: true }) as number)
  } finally {
    db.close()
  }
}

export async function metrics(peer: Pick<Endpoint, 'url' | 'token'>): Promise<string> {
  return (await fetch(`${peer.url}/metrics`, { headers: { authorization: `Bearer ${peer.token}` } })).text()
}

/** The sum of every sample of `name` (all its label sets). */
export function metric(text: string, name: string): number {
  let total = 0
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) total += Number(m[1])
  return total
}

/** Peers this daemon counts online (`ripple_peers{status="online"}`). */
export const onlinePeers = (text: string): number =>
  Number(/^ripple_peers\{status="online"\} (\d+)$/m.exec(text)?.[1] ?? 0)
