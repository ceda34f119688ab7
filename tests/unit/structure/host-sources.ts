/** host/'s TypeScript files and their relative imports, as the structure tests read them. */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { REPO_ROOT } from '../../e2e/ripple-process.ts'

export const HOST = join(REPO_ROOT, 'host')

export interface Source {
  path: string
  text: string
}

export function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

/** Every file under host/ with its text. */
export function hostSources(): Source[] {
  return sources(HOST).map((path) => ({ path, text: readFileSync(path, 'utf8') }))
}

/** Relative imports of a file's text (static, re-exports and dynamic, types too), as repo paths. */
export function importsOf(file: string, text: string): string[] {
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!)
  return specs.map((spec) => relative(REPO_ROOT, resolve(dirname(file), spec)))
}
