/**
 * tests/unit/ mirrors host/: the unit tests of `host/<folder>/` sit in `tests/unit/<folder>/`, so a
 * service's tests are found where its name says. The few folders for what is not one of host/'s are
 * named here with what they test.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../e2e/ripple-process.ts'

const NOT_HOST: Record<string, string> = {
  contract: "zomes-bindings/, the zomes' contract",
  rules: 'dnas/rules, through the shared vectors',
  structure: 'the whole tree',
  docs: 'docs/, the README and the generated references',
  fixtures: "tests/fixtures/, the tests' own tools (the previous release's build)",
  bench: "bench/'s pure parts (how a benchmark's report is put together)",
  // Left while others rework host/api/ (issue 37); it belongs in api/dashboard/.
  dashboard: 'host/api/dashboard/',
}

const folders = (dir: string) =>
  readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)

describe('tests/unit/', () => {
  it("has a folder for host/'s folders and the named others only", () => {
    const host = new Set(folders('host'))
    expect(folders('tests/unit').filter((f) => !host.has(f) && !(f in NOT_HOST))).toEqual([])
  })

  it("has a folder for each of host/'s folders", () => {
    const unit = new Set(folders('tests/unit'))
    expect(folders('host').filter((f) => !unit.has(f))).toEqual([])
  })

  it('names no other folder that is gone', () => {
    const unit = new Set(folders('tests/unit'))
    expect(Object.keys(NOT_HOST).filter((f) => !unit.has(f))).toEqual([])
  })
})
