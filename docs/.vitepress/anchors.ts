import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

/** Every built page's element ids, by its path under the site root ("/agents/", "/meshes"). */
function pageIds(outDir: string): Map<string, Set<string>> {
  const pages = new Map<string, Set<string>>()
  for (const file of readdirSync(outDir, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.html')) continue
    const html = readFileSync(join(outDir, file), 'utf8')
    const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => decodeURIComponent(m[1] ?? '')))
    pages.set(
      `/${file
        .replace(/\\/g, '/')
        .replace(/(^|\/)index\.html$/, '$1')
        .replace(/\.html$/, '')}`,
      ids,
    )
  }
  return pages
}

/** The page a link points at, as a key of pageIds: clean URLs, with or without .html. */
function pageKey(path: string): string {
  return path.replace(/\.html$/, '').replace(/\/index$/, '/')
}

/**
 * Fails (throws) when a link of the built site names an anchor its page lacks: VitePress checks
 * that linked pages exist, not the `#part` of a link.
 */
export function checkAnchors(outDir: string): void {
  const pages = pageIds(outDir)
  const dead: string[] = []
  for (const page of pages.keys()) {
    const file = page.endsWith('/') ? `${page}index.html` : `${page}.html`
    const html = readFileSync(join(outDir, file), 'utf8')
    for (const [, href = ''] of html.matchAll(/<a [^>]*href="([^"]*#[^"]*)"/g)) {
      if (/^[a-z]+:/i.test(href)) continue
      const [path = '', anchor = ''] = href.split('#')
      const target = path === '' ? page : pageKey(new URL(path, `http://site${page}`).pathname)
      const ids = pages.get(target)
      if (anchor !== '' && !ids?.has(decodeURIComponent(anchor))) dead.push(`${page}: ${href}`)
    }
  }
  if (dead.length > 0) {
    throw new Error(
      `links to anchors that do not exist (${relative(process.cwd(), outDir)}):\n  ${dead.join('\n  ')}`,
    )
  }
}
