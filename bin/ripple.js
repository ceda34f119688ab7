#!/usr/bin/env node
// Runs the CLI in this same process (the daemon's pid and signals are this process's own): from the
// bundle in dist/ (scripts/build-host.sh, run by the install, `npm start` and `npm test`) when it is
// newer than every source file, else the TypeScript itself through tsx's loader.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const bundle = join(root, 'dist', 'ripple.mjs')

function newestSource() {
  let newest = Math.max(
    statSync(join(root, 'package.json')).mtimeMs,
    statSync(join(root, 'package-lock.json')).mtimeMs,
  )
  for (const dir of ['host', 'zomes-bindings']) {
    for (const entry of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
    }
  }
  return newest
}

function bundleIsFresh() {
  try {
    return statSync(bundle).mtimeMs >= newestSource()
  } catch {
    return false
  }
}

if (bundleIsFresh()) {
  await import(bundle)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../host/cli/main.ts')
}
