import { describe, expect, it } from 'vitest'
import { heldOpsOf } from '../../../../host/conductor/embedded/replication/held-op-list.ts'
import { encodeHashB64, hashesEqual } from '../../../../host/identity/hash.ts'
import type { StoredAction } from '../../../../host/storage/chain-store.ts'
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
  it('decodes the ops again only after the store was written to', async () => {
    const alice = await agent()
    let reads = 0
    const chainActions = alice.store.chainActions.bind(alice.store)
    alice.store.chainActions = (...args) => {
      reads++
      return chainActions(...args)
    }
    const first = heldOpsOf(alice.store, alice.cell)
    // Each exchange's summaries and each hand-off plan read and decoded them all before (3 reads).
    expect([heldOpsOf(alice.store, alice.cell), heldOpsOf(alice.store, alice.cell), reads]).toEqual([
      first,
      first,
      1,
    ])
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'one more' }))
    const after = heldOpsOf(alice.store, alice.cell)
    expect([after.length, reads]).toEqual([first.length + 1, 2])
    // Read again, but the ops listed before keep their objects: not decoded, nor planned, again.
    expect(after.slice(0, first.length).every((op, i) => op === first[i])).toBe(true)
  })

  it('places again, until its target is held, a deletion whose target is not', async () => {
    const alice = await agent()
    const note = await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'gone soon' }))
    const deletion = await alice.cell.call((hdk) => hdk.delete_entry(note))
    // A store where the deletion is held and the note it deletes is not (yet): each call a write.
    let noteHeld = false
    let writes = 0
    const row = (hash: Uint8Array) => alice.store.getAction(hash)!
    const store = {
      chainHeads: () => [],
      chainActions: () => [],
      heldActions: () => [row(deletion)],
      getAction: (hash: Uint8Array): StoredAction | null =>
        hashesEqual(hash, note) && !noteHeld ? null : alice.store.getAction(hash),
      writeCount: () => ++writes,
    }
    const [unresolved] = heldOpsOf(store, alice.cell)
    expect(heldOpsOf(store, alice.cell)[0]).not.toBe(unresolved)
    noteHeld = true
    const [resolved] = heldOpsOf(store, alice.cell)
    expect(heldOpsOf(store, alice.cell)[0]).toBe(resolved)
  })
})
