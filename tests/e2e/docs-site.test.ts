/**
 * The built docs site (docs/.vitepress/dist, from `npm run docs`; built here when missing) in headless
 * Chromium: every page, served over HTTP the way VitePress's clean URLs are, loads with no console
 * error, no uncaught exception and no failed request, and shows its title. Screenshots of the home
 * page, the agents page and the API reference go to test-results/screenshots/docs-*.png, for a person
 * to read.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, relative } from 'node:path'
import { promisify } from 'node:util'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from './ripple-process.ts'

const CHROMIUM = '/usr/bin/chromium'
const DIST = join(REPO_ROOT, 'docs', '.vitepress', 'dist')
const SHOTS = join(REPO_ROOT, 'test-results', 'screenshots')
/** The pages a person reads in the screenshots (issue 59), by their clean URL. */
const SHOWN = { home: '/', agents: '/agents/', 'api-reference': '/reference/api' }

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
}

/** The built file a clean URL names: `/a/` is `a/index.html`, `/a` is `a.html` (VitePress's cleanUrls). */
function fileOf(url: string): string {
  const path = normalize(decodeURIComponent(new URL(url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '')
  if (path.endsWith('/')) return join(DIST, path, 'index.html')
  return join(DIST, extname(path) === '' ? `${path}.html` : path)
}

async function htmlPages(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.html') && e.name !== '404.html')
    .map((e) => `/${relative(DIST, join(e.parentPath, e.name))}`)
    .map((p) => p.replace(/index\.html$/, '').replace(/\.html$/, ''))
    .sort()
}

let server: Server
let base: string
let browser: Browser
let pages: string[]

beforeAll(async () => {
  if (!existsSync(join(DIST, 'index.html')))
    await promisify(execFile)('npx', ['vitepress', 'build', 'docs'], { cwd: REPO_ROOT })
  pages = await htmlPages(DIST)
  server = createServer((req, res) => {
    const file = fileOf(req.url ?? '/')
    readFile(file).then(
      (body) =>
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end('not found'),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  await mkdir(SHOTS, { recursive: true })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await new Promise((resolve) => server?.close(resolve))
})

describe('the built docs site in headless Chromium', { timeout: 120_000 }, () => {
  it('has the pages the sidebar promises', () => {
    for (const page of [...Object.values(SHOWN), '/getting-started', '/dashboard', '/reference/cli'])
      expect(pages).toContain(page)
  })

  it('opens every page with no console error, no exception and no failed request', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const problems: string[] = []
    let at = ''
    page.on('console', (m) => {
      // Chromium asks every site for /favicon.ico, which this one has none of.
      if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico'))
        problems.push(`${at}: console: ${m.text()} (${m.location().url})`)
    })
    page.on('pageerror', (err) => problems.push(`${at}: exception: ${err.message}`))
    // VitePress prefetches the chunks of the pages a page links to; leaving the page aborts those.
    page.on('requestfailed', (r) => {
      const why = r.failure()?.errorText ?? ''
      if (why !== 'net::ERR_ABORTED') problems.push(`${at}: failed (${why}): ${r.url()}`)
    })
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${at}: ${r.status()}: ${r.url()}`)
    })
    for (const path of pages) {
      at = path
      await page.goto(`${base}${path}`, { waitUntil: 'networkidle' })
      // Each page has a title of its own (an h1, or the home page's hero), so the tab and search name it.
      if ((await page.locator('.vp-doc h1, .VPHero .name').count()) === 0) problems.push(`${at}: no h1`)
      expect(await page.title(), path).toMatch(/Ripple/)
    }
    await page.close()
    expect(problems).toEqual([])
  })

  it('takes screenshots of the home page, the agents page and the API reference', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    for (const [name, path] of Object.entries(SHOWN)) {
      await page.goto(`${base}${path}`, { waitUntil: 'networkidle' })
      const png = await page.screenshot({ path: join(SHOTS, `docs-${name}.png`) })
      // A PNG of the whole viewport, not an empty file.
      expect(png.subarray(1, 4).toString()).toBe('PNG')
      expect(png.length).toBeGreaterThan(10_000)
    }
    await page.close()
  })
})
