import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { repoPath } from '../runtime/repo-root.ts'

const PACKAGE_JSON = repoPath('package.json')

/** The host's version, from package.json (advertised in the capability and shown by `status`). */
export async function hostVersion(): Promise<string> {
  const pkg = z.object({ version: z.string() }).parse(JSON.parse(await readFile(PACKAGE_JSON, 'utf8')))
  return pkg.version
}
