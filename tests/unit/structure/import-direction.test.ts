/**
 * Dependencies point down. Read from the code's own import lines: nothing below the process layers
 * (`daemon/`, `cli/`, `api/`) imports from them; the API does not reach into the daemon's process or
 * the CLI; and `interface/` (what every layer shares: Startable, ...) imports only the contract.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../e2e/ripple-process.ts'

const HOST = join(REPO_ROOT, 'host')
const TOP = ['daemon', 'cli', 'api']

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

/** Relative imports of a file's text (static, re-exports and dynamic), as repo paths. */
function importsOf(file: string, text: string): string[] {
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!)
  return specs.map((spec) => relative(REPO_ROOT, resolve(dirname(file), spec)))
}

/** The first folder under host/ (`scheduler`, `api`, ...), or null outside host/. */
const area = (repoPath: string) => (repoPath.startsWith('host/') ? repoPath.split('/')[1]! : null)

function violations(files: readonly { path: string; text: string }[]): string[] {
  const found: string[] = []
  for (const { path, text } of files) {
    const from = area(relative(REPO_ROOT, path))
    for (const target of importsOf(path, text)) {
      const to = area(target)
      const line = `${relative(REPO_ROOT, path)} -> ${target}`
      if (from === 'interface' && !target.startsWith('zomes-bindings/') && to !== 'interface')
        found.push(line)
      else if (to !== null && TOP.includes(to) && from !== null && !TOP.includes(from)) found.push(line)
      else if (from === 'api' && (to === 'daemon' || to === 'cli')) found.push(line)
    }
  }
  return found
}

describe('imports point down', () => {
  it('reads what it checks (a planted upward import is caught)', () => {
    const planted = [
      {
        path: join(HOST, 'scheduler', 'x.ts'),
        text: "import type { Startable } from '../daemon/startable.ts'",
      },
      { path: join(HOST, 'memory', 'y.ts'), text: "export { x } from '../api/openai/mesh-inference.ts'" },
      { path: join(HOST, 'api', 'z.ts'), text: "const m = await import('../cli/main.ts')" },
      { path: join(HOST, 'interface', 'w.ts'), text: "import { x } from '../log/logger.ts'" },
      { path: join(HOST, 'cli', 'ok.ts'), text: "import { x } from '../api/client/index.ts'" },
    ]
    expect(violations(planted)).toEqual([
      'host/scheduler/x.ts -> host/daemon/startable.ts',
      'host/memory/y.ts -> host/api/openai/mesh-inference.ts',
      'host/api/z.ts -> host/cli/main.ts',
      'host/interface/w.ts -> host/log/logger.ts',
    ])
  })

  it('has no import from below into daemon/, cli/ or api/, none from api/ into the process, a leaf interface/', () => {
    const files = sources(HOST).map((path) => ({ path, text: readFileSync(path, 'utf8') }))
    expect(files.length).toBeGreaterThan(200)
    expect(violations(files)).toEqual([])
  })
})
