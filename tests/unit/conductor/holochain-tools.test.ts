/**
 * Where the holochain backend and the tests find the Holochain tools, and that the one pinned version set
 * fits the zomes' hdk and the npm client and tryorama.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  builtToolsDir,
  findHolochainTool,
  missingHolochainTools,
  pathWithBuiltTools,
  pinnedVersions,
} from '../../../host/conductor/holochain/tools.ts'
import { repoPath } from '../../../host/runtime/repo-root.ts'
import { tempDir } from './fixtures/test-cell.ts'

async function fakeTool(dir: string, name: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  const path = join(dir, name)
  await writeFile(path, '#!/bin/sh\n')
  await chmod(path, 0o755)
  return path
}

const packageVersion = async (name: string) =>
  (JSON.parse(await readFile(repoPath('node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version

describe('the pinned Holochain versions', () => {
  it('pin all four tools, holochain on the line of the zomes hdk', async () => {
    const v = pinnedVersions()
    expect(Object.keys(v).sort()).toEqual([
      'HOLOCHAIN_CLI_VERSION',
      'HOLOCHAIN_VERSION',
      'KITSUNE2_BOOTSTRAP_SRV_VERSION',
      'LAIR_KEYSTORE_VERSION',
    ])
    // holochain X.Y.Z is released with hdk X.Y.Z: the conductor runs what the zomes are built against.
    const hdk = /^hdk = "=([^"]+)"$/m.exec(await readFile(repoPath('Cargo.toml'), 'utf8'))?.[1]
    expect(v.HOLOCHAIN_VERSION).toBe(hdk)
    expect(v.HOLOCHAIN_CLI_VERSION).toBe(v.HOLOCHAIN_VERSION)
  })

  it('are the 0.6.0 line that @holochain/client 0.20 and @holochain/tryorama 0.19 speak to', async () => {
    expect(pinnedVersions().HOLOCHAIN_VERSION).toBe('0.6.0')
    // 0.6.1+ speak iroh, which tryorama 0.19 cannot configure; its bootstrap server must still be 0.3.x (sbd).
    expect(pinnedVersions().KITSUNE2_BOOTSTRAP_SRV_VERSION).toMatch(/^0\.3\./)
    expect(await packageVersion('@holochain/client')).toMatch(/^0\.20\./)
    expect(await packageVersion('@holochain/tryorama')).toMatch(/^0\.19\./)
  })
})

describe('finding the Holochain tools', () => {
  it('takes the built directory first, then PATH, else reports the tool missing', async () => {
    const home = await tempDir()
    const onPath = join(home, 'path-bin')
    const env = { RIPPLE_HOLOCHAIN_HOME: home, PATH: onPath }
    const built = builtToolsDir(env)
    expect(built).toBe(join(home, pinnedVersions().HOLOCHAIN_VERSION!, 'bin'))

    expect(missingHolochainTools(['holochain', 'hc'], env)).toEqual(['holochain', 'hc'])
    const hcOnPath = await fakeTool(onPath, 'hc')
    expect(findHolochainTool('hc', env)).toBe(hcOnPath)
    const hcBuilt = await fakeTool(built, 'hc')
    expect(findHolochainTool('hc', env)).toBe(hcBuilt)
    expect(missingHolochainTools(['holochain', 'hc'], env)).toEqual(['holochain'])
  })

  it('ignores a file that is not executable', async () => {
    const home = await tempDir()
    const env = { RIPPLE_HOLOCHAIN_HOME: home, PATH: '' }
    const path = await fakeTool(builtToolsDir(env), 'holochain')
    await chmod(path, 0o644)
    expect(findHolochainTool('holochain', env)).toBeNull()
  })

  it('puts the built directory first on PATH for tools spawned by name (tryorama)', () => {
    const env = { RIPPLE_HOLOCHAIN_HOME: '/opt/hc', PATH: '/usr/bin' }
    expect(pathWithBuiltTools(env).split(delimiter)).toEqual([builtToolsDir(env), '/usr/bin'])
  })
})
