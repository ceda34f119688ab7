/**
 * Every image the docs pages and the README show is a file that exists (VitePress does not check
 * images under docs/public, and GitHub renders the README), and every screenshot kept in
 * docs/public/screenshots (written by tests/e2e/dashboard.test.ts with RIPPLE_UPDATE_SCREENSHOTS=1)
 * is shown somewhere.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const DOCS = join(ROOT, 'docs')
const SCREENSHOTS = join(DOCS, 'public', 'screenshots')

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.md'))
    .map((e) => join(e.parentPath, e.name))
    .filter(
      (file) =>
        !relative(DOCS, file)
          .split('/')
          .some((part) => part.startsWith('.') || part === 'node_modules'),
    )
}

/** Image sources of `![alt](src)` and `<img src="...">` outside code blocks. */
function imageSources(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '')
  return [
    ...[...prose.matchAll(/!\[[^\]]*\]\(([^)\s]+)/g)].map((m) => m[1] ?? ''),
    ...[...prose.matchAll(/<img\b[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1] ?? ''),
  ].filter((src) => !/^[a-z]+:/i.test(src))
}

/** Where a source points: `/x` is docs/public/x on the site; anything else is relative to the page. */
function fileOfImage(page: string, src: string): string {
  const path = src.split(/[?#]/)[0] ?? ''
  return path.startsWith('/') && page.startsWith(DOCS)
    ? join(DOCS, 'public', path)
    : join(dirname(page), path)
}

const PAGES = [...markdownFiles(DOCS), join(ROOT, 'README.md')]
const SHOWN = PAGES.flatMap((page) =>
  imageSources(readFileSync(page, 'utf8')).map((src) => ({
    page: relative(ROOT, page),
    src,
    file: fileOfImage(page, src),
  })),
)

describe('images in the docs and the README', () => {
  it('reads sources from markdown and HTML, not from code', () => {
    expect(imageSources('![a](/x.png) `b` <img alt="c" src="./y.png">\n```\n![no](z.png)\n```')).toEqual([
      '/x.png',
      './y.png',
    ])
  })

  it('every image shown exists', () => {
    expect(SHOWN.length).toBeGreaterThan(0)
    expect(SHOWN.filter((image) => !existsSync(image.file))).toEqual([])
  })

  it('the dashboard page and the README show the e2e screenshots', () => {
    const shownBy = (page: string) => SHOWN.filter((i) => i.page === page && i.file.startsWith(SCREENSHOTS))
    expect(shownBy('docs/dashboard.md').length).toBeGreaterThan(1)
    expect(shownBy('README.md')).toHaveLength(1)
  })

  it('every screenshot kept is shown somewhere', () => {
    const kept = readdirSync(SCREENSHOTS).map((name) => join(SCREENSHOTS, name))
    expect(kept.filter((file) => !SHOWN.some((image) => image.file === file))).toEqual([])
  })
})
