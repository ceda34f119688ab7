import { readFile } from 'node:fs/promises'
import { z } from 'zod'

const PACKAGE_JSON = new URL('../../package.json', import.meta.url)

/** The host's version, from package.json (advertised in the capability and shown by `status`). */
export async function hostVersion(): Promise<string> {
  const pkg = z.object({ version: z.string() }).parse(JSON.parse(await readFile(PACKAGE_JSON, 'utf8')))
  return pkg.version
}
