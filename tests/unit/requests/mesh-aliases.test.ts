/**
 * Mesh-wide model aliases through real embedded conductors and the Rust rules: an admin sets one and
 * every peer reads it, a later entry of the name replaces it, one naming no models removes it; a
 * non-admin is refused by the rules; nothing is written while a member reads no `ModelAlias` yet.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { OWN_STATEMENT } from '../../../host/interface/release.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { AliasService } from '../../../host/requests/alias-service.ts'
import { MeshAliases, type MeshAliasesInit } from '../../../host/requests/mesh-aliases.ts'
import { type Mesh, openMesh } from '../conductor/fixtures/mesh-conductors.ts'

let mesh: Mesh | null = null
afterEach(async () => {
  await mesh?.close()
  mesh = null
})

const meshAliases = (conductor: MeshAliasesInit['conductor'], versions: MeshAliasesInit['versions'] = null) =>
  new MeshAliases({ conductor, versions, cacheMs: 0, logger: silentLogger() })
const noFile = { list: () => [], set: async () => {}, remove: async () => false }

describe('mesh-wide model aliases (with the Rust rules)', () => {
  it("an admin's alias reaches every peer; the latest entry of a name wins; removed, it is gone", async () => {
    mesh = await openMesh(2, { progenitor: 0 })
    const [admin, other] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    const set = new AliasService({ file: noFile, mesh: meshAliases(admin) })
    await set.set({ name: 'coder', targets: ['qwen3-coder-30b', 'qwen3-coder-7b'] }, 'mesh')
    await set.set({ name: 'claude-*', targets: ['qwen3-coder-30b'] }, 'mesh')
    await set.set({ name: 'coder', targets: ['qwen3-coder-7b'] }, 'mesh')
    mesh.sync()
    const read = new AliasService({ file: noFile, mesh: meshAliases(other) })
    expect(await read.list()).toEqual([
      { name: 'claude-*', targets: ['qwen3-coder-30b'], scope: 'mesh' },
      { name: 'coder', targets: ['qwen3-coder-7b'], scope: 'mesh' },
    ])
    await set.remove('coder', 'mesh')
    mesh.sync()
    expect((await read.list()).map((a) => a.name)).toEqual(['claude-*'])
    await expect(set.remove('coder', 'mesh')).rejects.toThrow('no alias "coder" on the mesh')
  })

  it("refuses a non-admin's alias (the rules), and an alias naming a mesh alias (no chain)", async () => {
    mesh = await openMesh(2, { progenitor: 0 })
    const [admin, other] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    await expect(
      new AliasService({ file: noFile, mesh: meshAliases(other) }).set({ name: 'x', targets: ['m'] }, 'mesh'),
    ).rejects.toThrow(/model_alias\.author_is_admin/)
    const set = new AliasService({ file: noFile, mesh: meshAliases(admin) })
    await set.set({ name: 'coder', targets: ['m'] }, 'mesh')
    await expect(set.set({ name: 'fast', targets: ['coder'] }, 'mesh')).rejects.toThrow(
      '"coder" is an alias (of m); an alias names models only',
    )
  })

  it('writes nothing while a member reads no ModelAlias yet, and names it', async () => {
    mesh = await openMesh(1, { progenitor: 0 })
    const [admin] = mesh.conductors as [EmbeddedConductor]
    const old = { ...OWN_STATEMENT, protocols: { ...OWN_STATEMENT.protocols, entries: 2 } }
    const versions = {
      mesh: { everySpeaks: () => false, of: (agent: string) => (agent === 'uhCAkOLD' ? old : OWN_STATEMENT) },
      agents: () => ['uhCAkOLD', 'uhCAkNEW'],
    }
    const set = new AliasService({ file: noFile, mesh: meshAliases(admin, versions) })
    await expect(set.set({ name: 'coder', targets: ['m'] }, 'mesh')).rejects.toThrow(
      'mesh-wide aliases wait until every member reads them: peer uhCAkOLD runs an older Ripple (upgrade it), or set it on this peer',
    )
    expect(await admin.callZome('policy_store', 'list_model_aliases', null)).toEqual([])
  })

  it('a failed read keeps the aliases last read: a request is never refused for want of them', async () => {
    mesh = await openMesh(1, { progenitor: 0 })
    const [admin] = mesh.conductors as [EmbeddedConductor]
    let down = false
    const store = meshAliases({
      agentPubKey: admin.agentPubKey,
      callZome: ((dna: never, fn: never, input: never) =>
        down ? Promise.reject(new Error('conductor closed')) : admin.callZome(dna, fn, input)) as never,
    })
    await store.set({ name: 'coder', targets: ['m'] })
    expect(await store.list()).toEqual([{ name: 'coder', targets: ['m'] }])
    down = true
    expect(await store.list()).toEqual([{ name: 'coder', targets: ['m'] }])
  })
})
