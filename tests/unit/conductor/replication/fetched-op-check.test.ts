import { describe, expect, it } from 'vitest'
import { signAction } from '../../../../host/conductor/embedded/action.ts'
import { checkFetchedOp } from '../../../../host/conductor/embedded/replication/fetched-op-check.ts'
import { type WireOp, wireOpOf } from '../../../../host/conductor/embedded/replication/op-wire.ts'
import { encodeCanonical } from '../../../../host/identity/canonical.ts'
import { encodeHashB64, hashContent } from '../../../../host/identity/hash.ts'
import { openAgentKey } from '../../../../host/identity/keystore.ts'
import { notesCells, type TestCell } from '../fixtures/test-cell.ts'
import { craftCreate, strangerKey } from './fixtures/forge.ts'

const agent = notesCells()

/** The op of `hash` as its author's store would serve it. */
function servedOp(tc: TestCell, hash: Uint8Array): WireOp {
  const action = tc.store.getAction(hash)!
  return wireOpOf(action, action.entryHash && tc.store.getEntry(action.entryHash))
}

async function writeNote(tc: TestCell, text: string): Promise<Uint8Array> {
  await tc.cell.call((hdk) => hdk.create_entry('Note', { text }))
  return tc.cell.chain.head.hash
}

describe('an op got from a holder', () => {
  it('is judged as ingest judges it: what the author did not sign blames the holder, what it signed the author', async () => {
    const [alice, erin] = [await agent(), await agent()]
    const note = await writeNote(alice, 'hello')
    const other = await writeNote(alice, 'another')
    const real = servedOp(alice, note)
    const invalid = await craftCreate(alice, 'Note', { text: '' })
    const reply = await craftCreate(alice, 'Reply', { parent: encodeHashB64(other), text: 'a reply' })
    const warranted = new Set<string>()
    const context = {
      cell: erin.cell,
      store: erin.store,
      barred: (author: Uint8Array) => warranted.has(encodeHashB64(author)),
    }
    const verdict = (op: WireOp, asked: Uint8Array) => {
      const v = checkFetchedOp(context, op, asked)
      return v.kind === 'valid' ? 'valid' : v.kind === 'unchecked' ? 'unchecked' : `${v.kind} ${v.rule}`
    }
    // Erin holds nothing of alice's chain: its continuity is left to her neighbourhood.
    expect(erin.store.getAction(note)).toBeNull()
    expect(verdict(real, note)).toBe('valid')
    expect(verdict(servedOp(alice, other), note)).toBe('holder sys.hash')
    expect(verdict({ ...real, signature: strangerKey().sign(real.action) }, note)).toBe(
      'holder sys.signature',
    )
    expect(verdict({ ...real, entry: encodeCanonical({ text: 'not hello' }) }, note)).toBe('holder sys.entry')
    expect(verdict({ ...real, entry: null }, note)).toBe('holder sys.entry')
    expect(verdict(invalid.op, invalid.hash)).toBe('author note.text_length')
    // A reply whose note is not held here cannot be judged here (dependencies are not got yet).
    expect(verdict(reply.op, reply.hash)).toBe('unchecked')
    warranted.add(encodeHashB64(alice.cell.agentPubKey))
    expect(verdict(real, note)).toBe('unchecked')
  })

  it('checks its place in the chain where its author previous action is held here, and only there', async () => {
    const [alice, erin] = [await agent(), await agent()]
    await writeNote(alice, 'first')
    // Signed by alice at the head's own timestamp: a chain whose time does not move on.
    const crafted = await craftCreate(alice, 'Note', { text: 'back in time' })
    const signed = signAction(
      { ...crafted.content, timestamp: alice.cell.chain.head.timestamp },
      await openAgentKey(alice.dataDir),
    )
    const op = { action: signed.bytes, signature: signed.signature, entry: crafted.op.entry }
    const hash = hashContent(signed.bytes, 'action')
    const judged = (store: TestCell['store']) =>
      checkFetchedOp({ cell: erin.cell, store, barred: () => false }, op, hash)
    expect(judged(alice.store)).toMatchObject({
      kind: 'author',
      rule: 'chain.action',
      reason: 'timestamp does not increase',
    })
    expect(judged(erin.store).kind).toBe('valid')
  })

  it('names what it builds on and is not held here, and is judged once those are got beside it', async () => {
    const [alice, erin] = [await agent(), await agent()]
    const note = await writeNote(alice, 'a parent')
    const reply = await craftCreate(alice, 'Reply', { parent: encodeHashB64(note), text: 'a reply' })
    const held = alice.store.getAction(note)!
    const parent = { action: held, entry: alice.store.getEntry(held.entryHash!) }
    const judged = (beside: (typeof parent)[]) =>
      checkFetchedOp(
        { cell: erin.cell, store: erin.store, barred: () => false, beside },
        reply.op,
        reply.hash,
      )
    expect(judged([])).toMatchObject({ kind: 'unchecked', needs: [encodeHashB64(note)] })
    expect(judged([parent])).toMatchObject({ kind: 'valid', stored: { hash: reply.hash } })
    expect(erin.store.getAction(note)).toBeNull()
  })
})
