/**
 * The dashboard's built files (`ui/dist`, made by `npm run build:ui`), read once at start and served
 * at `/` without the token: the page holds no secret, and signs in before it asks the API anything.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { extname, join, relative, sep } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { repoPath } from '../../runtime/repo-root.ts'
import { API_STATUS } from '../api-status.ts'

export const DASHBOARD_DIR = `${repoPath('ui', 'dist')}${sep}`

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
}

export interface StaticFile {
  body: Buffer
  type: string
}

/** Every file under `dir` by URL path (`/index.html` also as `/`); empty when the UI was not built. */
export function readDashboardFiles(dir = DASHBOARD_DIR): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>()
  let names: string[]
  try {
    names = readdirSync(dir, { recursive: true, encoding: 'utf8' })
  } catch {
    return files
  }
  for (const name of names) {
    const path = join(dir, name)
    let body: Buffer
    try {
      body = readFileSync(path)
    } catch {
      continue // a directory
    }
    const url = `/${relative(dir, path).split(sep).join('/')}`
    files.set(url, { body, type: TYPES[extname(name)] ?? 'application/octet-stream' })
  }
  const index = files.get('/index.html')
  if (index) files.set('/', index)
  return files
}

/** The open routes bearerAuth lets through: exactly the dashboard's files (`/` says how to build it when absent). */
export function dashboardRoutes(files: Map<string, StaticFile>): { method: string; url: string }[] {
  return [...new Set(['/', ...files.keys()])].map((url) => ({ method: 'GET', url }))
}

export function registerDashboardFiles(app: FastifyInstance, files: Map<string, StaticFile>): void {
  const notBuilt =
    '<!doctype html><title>Ripple</title><p>The dashboard is not built: run <code>npm run build:ui</code> (or <code>bash scripts/install.sh</code>) and restart <code>ripple up</code>.</p>'
  if (!files.has('/')) {
    app.get('/', (_request, reply) =>
      reply.code(API_STATUS.unavailable).type('text/html; charset=utf-8').send(notBuilt),
    )
    return
  }
  for (const [url, file] of files) {
    // Built asset names carry a content hash; index.html must be fetched afresh after an upgrade.
    const cache = url.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'
    app.get(url, (_request, reply) => reply.type(file.type).header('cache-control', cache).send(file.body))
  }
}
