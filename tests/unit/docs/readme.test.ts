/**
 * The README stays a short front door (issue 59): at most ~25 KB, and every relative link in it (into
 * the docs site, mostly) names a file that exists. The site's own links and anchors are checked by its
 * build (`npm run docs`); GitHub renders the README, which that build does not read.
 */
import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const ROOT = new URL('../../../', import.meta.url)
const README = readFileSync(new URL('README.md', ROOT), 'utf8')

/** Link targets of `[text](target)` outside code, without their `#anchor`. */
function relativeTargets(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '')
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] ?? '')
    .filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith('#'))
    .map((target) => target.split('#')[0] ?? '')
}

describe('README', () => {
  it('is at most 25 KB', () => {
    expect(Buffer.byteLength(README)).toBeLessThanOrEqual(25 * 1024)
  })

  it('links only to files that exist', () => {
    const targets = relativeTargets(README)
    expect(targets.length).toBeGreaterThan(10)
    expect(targets.filter((target) => !existsSync(new URL(target, ROOT)))).toEqual([])
  })
})
