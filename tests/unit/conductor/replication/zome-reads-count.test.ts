/**
 * The reads a zome call asks of holders are counted by DNA, zome function and kind (issue 57): what
 * /metrics shows as ripple_record_reads_total, to find which calls of an idle peer cost `record/1.0.0`.
 */
import { describe, expect, it } from 'vitest'
import { zomeReads } from '../../../../host/conductor/embedded/replication/zome-reads.ts'

const hash = (n: number) => new Uint8Array(39).fill(n)
const nothing = async () => ({ records: [], links: [], from: null })

describe('zome reads asked of holders', () => {
  it('are counted by DNA, zome function and kind', async () => {
    const reads = zomeReads({
      conductor: { agentPubKey: 'me', cell: () => ({ dnaHash: hash(9) }) as never },
      holderGet: { get: () => Promise.reject(new Error('not asked')) },
      holderLists: { list: nothing },
      members: () => [],
      holders: 8,
      sharded: () => true,
    })
    const links = {
      kind: 'links' as const,
      base: hash(1),
      linkType: 0,
      tagPrefix: new Uint8Array(),
      deleted: false,
    }
    const signal = new AbortController().signal
    await reads.fetch('agent_registry', [links, { ...links, base: hash(2) }], signal, 'list_nodes')
    await reads.fetch('agent_registry', [links], signal, 'list_nodes')
    await reads.fetch('resource_mesh', [links], signal, 'list_open_tasks')
    expect(reads.reads()).toEqual([
      { dna: 'agent_registry', fn: 'list_nodes', kind: 'links', count: 3 },
      { dna: 'resource_mesh', fn: 'list_open_tasks', kind: 'links', count: 1 },
    ])
  })
})
