import { describe, expect, it } from 'vitest'
import { heldOpsOf } from '../../../../host/conductor/embedded/replication/held-op-list.ts'
import { encodeHashB64 } from '../../../../host/identity/hash.ts'
import { notesCells } from '../fixtures/test-cell.ts'

const agent = notesCells()

describe('the ops a peer holds, with where they live', () => {
  it('lists every chain action: a genesis for every member, a record at its hash, a link at its hash and base', async () => {
    const alice = await agent()
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'hello' }))
    const noteHash = alice.cell.chain.head.hash
    await alice.cell.call((hdk) => hdk.create_link(noteHash, noteHash, 'Tagged'))
    const linkHash = alice.cell.chain.head.hash
    const ops = heldOpsOf(alice.store, alice.cell)
    const b64 = (hash: Uint8Array | null | undefined) => hash && encodeHashB64(hash)
    const byHash = new Map(ops.map((op) => [b64(op.hash), op.bases?.map(b64) ?? null]))
    expect(ops).toHaveLength(alice.cell.chain.head.seq + 1)
    expect(ops.every((op) => op.author === encodeHashB64(alice.cell.agentPubKey))).toBe(true)
    // Dna, AgentValidationPkg, the agent key: everyone's.
    expect(ops.slice(0, 3).map((op) => op.bases)).toEqual([null, null, null])
    expect(byHash.get(b64(noteHash))).toEqual([b64(noteHash)])
    expect(byHash.get(b64(linkHash))).toEqual([b64(linkHash), b64(noteHash)])
  })
})
