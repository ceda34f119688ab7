/**
 * Counting the members reads each genesis once per change of the store (validation/record-rules.ts
 * GenesisIndex): a sharded peer counts them many times a second (the sharding gate, placement, the
 * registry's member checks), and reading every genesis per member each time made an idle peer's
 * CPU grow with N^2 (issue 57's regression against issue 56).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { EmbeddedConductor } from '../../../../host/conductor/embedded/index.ts'
import { knownMembers } from '../../../../host/conductor/embedded/replication/membership.ts'
import { task } from '../../scheduler/fixtures.ts'
import { type Mesh, openMesh } from '../fixtures/mesh-conductors.ts'

const standing = { isWarranted: () => false, isRevoked: () => false, legacySealed: () => null }

let mesh: Mesh | null = null
afterEach(async () => {
  await mesh?.close()
  mesh = null
})

describe('knownMembers', () => {
  it('reads no genesis again until the store changes, then reads them again', async () => {
    mesh = await openMesh(4)
    mesh.sync()
    const a = mesh.conductors[0] as EmbeddedConductor
    const reads = vi.spyOn(a.store, 'chainRange')
    const members = knownMembers(a, standing)
    expect(members).toHaveLength(4)
    const first = reads.mock.calls.length
    expect(first).toBeGreaterThan(0)
    for (let i = 0; i < 10; i++) expect(knownMembers(a, standing)).toEqual(members)
    expect(reads.mock.calls.length).toBe(first)
    await a.callZome('resource_mesh', 'submit_task', task())
    expect(knownMembers(a, standing)).toEqual(members)
    expect(reads.mock.calls.length).toBeGreaterThan(first)
  })
})
