/**
 * `npm run docs:reference`: writes the reference pages generated from the code (docs/reference/) and
 * the route descriptions the daemon's OpenAPI document carries. tests/unit/docs/reference-fresh.test.ts
 * fails when a committed one differs from what this writes.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { referencePages } from './reference/reference-pages.ts'

const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

for (const [path, text] of await referencePages()) {
  const changed = read(path) !== text
  if (changed) writeFileSync(path, text)
  process.stdout.write(`${changed ? 'wrote' : 'unchanged'} ${path}\n`)
}
