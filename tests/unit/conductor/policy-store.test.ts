import { afterEach, describe, expect, it } from 'vitest'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import type { Decision, Policy } from '../../../zomes-bindings/index.ts'
import { type Mesh, openMesh } from './fixtures/mesh-conductors.ts'

let mesh: Mesh | null = null
afterEach(async () => {
  await mesh?.close()
  mesh = null
})

const policy = (overrides: Partial<Policy> = {}): Policy => ({
  id: 'no-sha',
  version: 1,
  text: 'forbid(principal, action, resource) when { resource.kind == "sha256" };',
  description: 'no sha256 here',
  admin_grant: null,
  ...overrides,
})

describe('policy_store zome (with the Rust rules)', () => {
  it('lets the progenitor publish, keeps the latest version per id, and refuses a lower version', async () => {
    mesh = await openMesh(2, { progenitor: 0 })
    const [admin, other] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    await admin.callZome('policy_store', 'publish_policy', policy())
    await admin.callZome(
      'policy_store',
      'publish_policy',
      policy({ id: 'other', text: 'permit(principal, action, resource);' }),
    )
    await admin.callZome('policy_store', 'publish_policy', policy({ version: 3, description: 'v3' }))
    await expect(admin.callZome('policy_store', 'publish_policy', policy({ version: 2 }))).rejects.toThrow(
      /policy\.update_version/,
    )
    mesh.sync()
    const listed = await other.callZome('policy_store', 'list_policies', null)
    expect(listed.map((p) => [p.entry.id, p.entry.version, p.entry.description])).toEqual([
      ['no-sha', 3, 'v3'],
      ['other', 1, 'no sha256 here'],
    ])
  })

  it('refuses policies and grants from a non-admin, and accepts them once granted', async () => {
    mesh = await openMesh(2, { progenitor: 0 })
    const [admin, other] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    await expect(other.callZome('policy_store', 'publish_policy', policy())).rejects.toThrow(
      /policy\.author_is_admin/,
    )
    await expect(
      other.callZome('policy_store', 'grant_admin', { agent: admin.agentPubKey, granted_by_grant: null }),
    ).rejects.toThrow(/admin_grant\.author_is_admin/)

    const grant = await admin.callZome('policy_store', 'grant_admin', {
      agent: other.agentPubKey,
      granted_by_grant: null,
    })
    mesh.sync()
    await other.callZome('policy_store', 'publish_policy', policy({ admin_grant: grant.action_hash }))
    expect((await other.callZome('policy_store', 'list_admins', null)).map((g) => g.entry.agent)).toEqual([
      other.agentPubKey,
    ])
  })

  it('refuses every policy on a network that names no progenitor', async () => {
    mesh = await openMesh(1)
    const [only] = mesh.conductors as [EmbeddedConductor]
    await expect(only.callZome('policy_store', 'publish_policy', policy())).rejects.toThrow(
      /policy\.no_progenitor/,
    )
  })

  it('records decisions and lists them newest first, per subject or all', async () => {
    mesh = await openMesh(2)
    const [a, b] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    const decision = (subject: string, resource: string): Decision => ({
      subject,
      action: 'claim',
      resource,
      allowed: false,
      policy_ids: ['no-sha'],
      reason: 'forbidden by no-sha',
      context: { kind: 'sha256', min_ram_bytes: 0, model: null, gpu: false },
    })
    await a.callZome('policy_store', 'record_decision', decision(a.agentPubKey, 'Task::"one"'))
    await a.callZome('policy_store', 'record_decision', decision(b.agentPubKey, 'Task::"two"'))
    await a.callZome('policy_store', 'record_decision', decision(a.agentPubKey, 'Task::"three"'))
    const all = await a.callZome('policy_store', 'list_decisions', { subject: null, limit: 2 })
    expect(all.map((d) => d.entry.resource)).toEqual(['Task::"three"', 'Task::"two"'])
    const aboutB = await a.callZome('policy_store', 'list_decisions', { subject: b.agentPubKey, limit: 10 })
    expect(aboutB.map((d) => d.entry.resource)).toEqual(['Task::"two"'])
  })
})
