/**
 * Pure unit tests share two long-lived forks (vitest.config.ts); a file that mocks a module needs a
 * fresh module graph, so it must be named in OWN_FORK. Without this a new `vi.mock` test passes alone
 * and fails in the shared forks, where the real module is already loaded (CI at 6276c2d:
 * chain-overlap.test.ts).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { OWN_FORK } from '../../../vitest.config.ts'
import { REPO_ROOT } from '../../e2e/ripple-process.ts'

describe('unit test files that mock a module', () => {
  it('run in a fork of their own', () => {
    const files = execFileSync(
      'git',
      ['ls-files', '--cached', '--others', '--exclude-standard', 'tests/unit'],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      },
    )
      .split('\n')
      .filter((f) => f.endsWith('.test.ts'))
    const mocking = files.filter((f) => /\bvi\.mock\(/.test(readFileSync(join(REPO_ROOT, f), 'utf8')))
    expect(mocking.length).toBeGreaterThan(0)
    expect(mocking.filter((f) => !OWN_FORK.includes(f))).toEqual([])
  })
})
