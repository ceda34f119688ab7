import { describe, expect, it } from 'vitest'
import {
  ENTRY_SCOPES,
  entryScope,
  LINK_SCOPES,
  linkScope,
} from '../../../../host/conductor/embedded/replication/record-scope.ts'
import { contract, DNA_NAMES, type DnaContract } from '../../../../zomes-bindings/index.ts'

const dnaContract = (dna: (typeof DNA_NAMES)[number]): DnaContract => contract[dna]

describe('record scopes', () => {
  describe.each(DNA_NAMES)('%s', (dna) => {
    const entryTypes = Object.keys(dnaContract(dna).entryTypes)
    const linkTypes = dnaContract(dna).linkTypes

    it('places every entry type of the contract, and nothing else', () => {
      expect(entryTypes.length).toBeGreaterThan(0)
      for (const name of entryTypes) expect([name, entryScope(dna, name)]).toEqual([name, expect.any(String)])
      expect(Object.keys(ENTRY_SCOPES[dna]).sort()).toEqual([...entryTypes].sort())
    })

    it('places every link type of the contract, and nothing else', () => {
      for (const name of linkTypes) expect([name, linkScope(dna, name)]).toEqual([name, expect.any(String)])
      expect(Object.keys(LINK_SCOPES[dna]).sort()).toEqual([...linkTypes].sort())
    })

    it('keeps private entries with their neighbourhood (only their actions travel, and they grow)', () => {
      for (const name of dnaContract(dna).privateEntryTypes ?? [])
        expect([name, entryScope(dna, name)]).toEqual([name, 'neighbourhood'])
    })
  })

  it('knows no type the contract lacks, nor inherited names', () => {
    expect(entryScope('resource_mesh', 'NoSuchType')).toBeUndefined()
    expect(entryScope('policy_store', 'toString')).toBeUndefined()
    expect(linkScope('agent_registry', 'constructor')).toBeUndefined()
  })

  it('keeps what every peer checks everywhere and what grows with time in neighbourhoods', () => {
    expect(entryScope('agent_registry', 'Revocation')).toBe('everywhere')
    expect(entryScope('agent_registry', 'LegacySeal')).toBe('everywhere')
    expect(entryScope('policy_store', 'AdminGrant')).toBe('everywhere')
    expect(entryScope('policy_store', 'Policy')).toBe('everywhere')
    expect(entryScope('resource_mesh', 'ServedBatch')).toBe('neighbourhood')
    expect(entryScope('resource_mesh', 'Task')).toBe('neighbourhood')
    expect(entryScope('policy_store', 'Decision')).toBe('neighbourhood')
    // Every DNA of tasks, artifacts and memory grows with use: nothing of it is everywhere.
    for (const dna of ['resource_mesh', 'artifact_index', 'memory_shards'] as const)
      for (const name of Object.keys(dnaContract(dna).entryTypes))
        expect(entryScope(dna, name)).toBe('neighbourhood')
  })
})
