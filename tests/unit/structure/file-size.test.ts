/**
 * No source file grows past 400 lines, in either language: past that a file holds more than one job,
 * and is split by job. Tests are left out (a route's cases read best together).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../e2e/ripple-process.ts'

const MAX_LINES = 400
const SOURCES = ['host', 'zomes-bindings', 'ui/src', 'bench', 'scripts', 'dnas']

describe('source files', () => {
  it(`are ${MAX_LINES} lines or fewer`, () => {
    const files = execFileSync(
      'git',
      ['ls-files', '--cached', '--others', '--exclude-standard', ...SOURCES],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      },
    )
      .split('\n')
      // The rules' and zomes' tests sit in tests/ folders of their own (dnas/rules/tests).
      .filter((f) => /\.(ts|rs)$/.test(f) && !f.includes('/tests/'))
    expect(files.filter((f) => f.endsWith('.rs')).length).toBeGreaterThan(10)
    expect(files.length).toBeGreaterThan(100)
    const long = files
      .map((f) => [f, readFileSync(join(REPO_ROOT, f), 'utf8').split('\n').length - 1] as const)
      .filter(([, lines]) => lines > MAX_LINES)
    expect(long).toEqual([])
  })
})
