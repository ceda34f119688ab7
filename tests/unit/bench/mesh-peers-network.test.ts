/**
 * The network file the mesh-peers bench gives its daemons: none for `local` as shipped, else `local`
 * with the R asked, valid for the daemon's own schema.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { networkFlags } from '../../../bench/mesh-peers/network-file.ts'
import { NetworkConfigSchema } from '../../../host/config/network-schema.ts'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

describe('networkFlags', () => {
  it('names no network file where no R is asked', async () => {
    expect(await networkFlags('/nowhere', null)).toEqual([])
  })

  it('writes local with the R asked, and names it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mesh-peers-network-'))
    dirs.push(root)
    const flags = await networkFlags(root, 4)
    expect(flags).toEqual(['--network', join(root, 'network.json')])
    const written = NetworkConfigSchema.parse(JSON.parse(await readFile(flags[1]!, 'utf8')))
    expect(written.record?.holders).toBe(4)
    expect(written.name).toBe('local')
    // A private mesh with invites, as `local` is by default.
    expect(written.require_invite).toBe(true)
  })
})
