/**
 * Sharded ingest (issue 57): an op this peer holds out of chain order is checked as a fetched op
 * (signature, entry, rules with what they read got from holders), not for chain continuity, and
 * stored held; an op it should not keep is dropped without blame; a chain that reaches held ops
 * takes them in.
 */
import type { Action } from '@holochain/client'
import { afterEach, describe, expect, it } from 'vitest'
import type { Cell } from '../../../../host/conductor/embedded/cell.ts'
import type { OpIngest } from '../../../../host/conductor/embedded/replication/op-ingest.ts'
import type { Keep } from '../../../../host/conductor/embedded/replication/op-placement.ts'
import { isGenesis } from '../../../../host/conductor/embedded/replication/op-placement.ts'
import { encodeHashB64, hashContent } from '../../../../host/identity/hash.ts'
import { NOTES_MODIFIERS, openNotesCell, type TestCell, tempDir } from '../fixtures/test-cell.ts'
import { craftCreate, strangerKey } from './fixtures/forge.ts'
import { b64, ingestOn, opsOf, receive, warrantsOf } from './fixtures/ingest.ts'

const opened: TestCell[] = []

async function agent(): Promise<TestCell> {
  const tc = await openNotesCell(await tempDir())
  opened.push(tc)
  return tc
}

/** A receiving peer whose placement is `keep` for every op past genesis (genesis: its chain). */
async function receiver(keep: { now: Keep }): Promise<TestCell & { ingest: OpIngest }> {
  const tc = await agent()
  const place = (_: Cell, action: Action): Keep => (isGenesis(action) ? 'chain' : keep.now)
  return { ...tc, ingest: ingestOn(tc, { place }) }
}

afterEach(() => {
  for (const tc of opened.splice(0)) tc.store.close()
})

describe('sharded ingest', () => {
  it("holds another agent's ops out of chain order: found by hash and by link, not in its chain", async () => {
    const alice = await agent()
    const bob = await receiver({ now: 'held' })
    const { note, link } = await alice.cell.call((hdk) => {
      const note = hdk.create_entry('Note', { text: 'hello' })
      const link = hdk.create_link(hdk.anchor('notes'), note, 'Tagged')
      return { note, link }
    })
    // Out of order, the genesis last: a held op does not wait for its chain.
    const ops = opsOf(alice)
    const result = receive(bob, [...ops.slice(3).reverse(), ...ops.slice(0, 3)], alice)
    expect(result.counts).toMatchObject({ stored: ops.length, rejected: 0, pending: 0 })
    expect(bob.store.chainHead(bob.cell.dnaHash, alice.cell.agentPubKey)?.seq).toBe(2)
    expect(bob.store.getAction(note)?.held).toBe(true)
    const record = await bob.cell.call((hdk) => hdk.get(note))
    expect(record && (await bob.cell.call((hdk) => hdk.entry_of(record)))).toEqual({ text: 'hello' })
    const links = await bob.cell.call((hdk) => hdk.get_links(hdk.anchor('notes'), 'Tagged'))
    expect(links.map((l) => l.create_link_hash)).toEqual([link])
    expect(receive(bob, ops, alice).counts).toMatchObject({ duplicate: ops.length, stored: 0 })
  })

  it('drops an op it should not keep, blaming nobody', async () => {
    const alice = await agent()
    const bob = await receiver({ now: null })
    const note = await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'far' }))
    const ops = opsOf(alice)
    expect(receive(bob, ops, alice).counts).toMatchObject({ stored: 3, ignored: ops.length - 3, rejected: 0 })
    expect(bob.store.getAction(note)).toBeNull()
    expect(warrantsOf(bob)).toEqual([])
  })

  it('keeps ops carried here for it to check (kept) held, where it would keep none of them', async () => {
    const alice = await agent()
    const bob = await receiver({ now: null })
    const note = await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'carried' }))
    const ops = opsOf(alice)
    receive(bob, ops.slice(0, 3), alice)
    const [result] = bob.ingest.receiveAll([
      { batch: { dnaHash: bob.cell.dnaHash, ops: ops.slice(3) }, sender: alice.cell.agentPubKey, kept: true },
    ])
    expect(result!.counts).toMatchObject({ stored: ops.length - 3, ignored: 0 })
    expect(bob.store.getAction(note)?.held).toBe(true)
  })

  it('warrants the sender of a held op its author did not sign, the author of one the rules refuse', async () => {
    const alice = await agent()
    const mallory = await agent()
    const bob = await receiver({ now: 'held' })
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'one' }))
    receive(bob, opsOf(alice).slice(0, 3), alice)
    const last = opsOf(alice).at(-1)!
    const forged = { ...last, signature: strangerKey().sign(last.action) }
    expect(receive(bob, [forged], mallory).counts).toMatchObject({ rejected: 1 })
    expect(warrantsOf(bob)).toEqual([[b64(mallory), 'sys.signature']])
    // The rules of the notes DNA refuse an empty note.
    const invalid = await craftCreate(alice, 'Note', { text: '' })
    // Delivered by its author (mallory, warranted, is heard no more).
    expect(receive(bob, [invalid.op], alice).counts).toMatchObject({ rejected: 1 })
    expect(warrantsOf(bob)).toHaveLength(2)
    expect(warrantsOf(bob)[1]![0]).toBe(b64(alice))
  })

  it('warrants the author of two held actions at one seq that build on the same action (a fork)', async () => {
    const alice = await agent()
    const bob = await receiver({ now: 'held' })
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'one' }))
    receive(bob, opsOf(alice), alice)
    const head = alice.store.chainHead(alice.cell.dnaHash, alice.cell.agentPubKey)!
    const fork = await craftCreate(alice, 'Note', { text: 'other' }, { prevSeq: head.seq - 1 })
    expect(receive(bob, [fork.op], alice).counts).toMatchObject({ rejected: 1 })
    expect(warrantsOf(bob)).toEqual([[b64(alice), 'chain.fork']])
  })

  it('warrants the author when its chain reaches a held action of another hash on the same previous action', async () => {
    const alice = await agent()
    const keep: { now: Keep } = { now: 'held' }
    const bob = await receiver(keep)
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'one' }))
    const ops = opsOf(alice)
    const head = alice.store.chainHead(alice.cell.dnaHash, alice.cell.agentPubKey)!
    const fork = await craftCreate(alice, 'Note', { text: 'other' }, { prevSeq: head.seq - 1 })
    receive(bob, ops.slice(0, 3), alice)
    expect(receive(bob, [fork.op], alice).counts.stored).toBe(1)
    // Bob now keeps Alice's chain: her own action at that seq is the second one there.
    keep.now = 'chain'
    const result = receive(bob, ops.slice(3), alice)
    expect(result.counts.rejected).toBe(1)
    expect(warrantsOf(bob)).toEqual([[b64(alice), 'chain.fork']])
  })

  it("drops a replay of the author's action of another DNA held at a seq, once its real action there builds on the chain", async () => {
    const alice = await agent()
    const aliceElsewhere = await openNotesCell(alice.dataDir, {
      modifiers: { ...NOTES_MODIFIERS, networkSeed: 'another-network' },
    })
    opened.push(aliceElsewhere)
    const mallory = await agent()
    await aliceElsewhere.cell.call((hdk) => hdk.create_entry('Note', { text: 'elsewhere' }))
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'here' }))
    const [foreign, ops] = [opsOf(aliceElsewhere), opsOf(alice)]
    const seq = ops.length - 1
    for (const keepsChain of [false, true]) {
      // Bob keeps alice's chain up to the seq before: its rows there are of this DNA.
      const keep: { now: Keep } = { now: 'chain' }
      const bob = await receiver(keep)
      receive(bob, ops.slice(0, seq), alice)
      keep.now = 'held'
      // A relay labels alice's action of the other DNA at that seq this one's: held, it takes the seq.
      expect(receive(bob, [foreign[seq]!], mallory).counts.stored).toBe(1)
      // Her own action there, kept held, or in her chain once bob keeps it.
      if (keepsChain) keep.now = 'chain'
      expect(receive(bob, [ops[seq]!], alice).counts).toMatchObject({ stored: 1, rejected: 0 })
      const real = bob.store.actionAt(bob.cell.dnaHash, alice.cell.agentPubKey, seq)
      expect(real && encodeHashB64(real.hash)).toBe(encodeHashB64(alice.cell.chain.head.hash))
      expect(real?.held).toBe(keepsChain ? undefined : true)
      expect(bob.store.chainHead(bob.cell.dnaHash, alice.cell.agentPubKey)?.seq).toBe(
        keepsChain ? seq : seq - 1,
      )
      expect([...bob.store.heldActions(bob.cell.dnaHash)]).toHaveLength(keepsChain ? 0 : 1)
      expect(bob.store.getAction(hashContent(foreign[seq]!.action, 'action'))).toBeNull()
      expect(bob.store.listWarrants()).toEqual([])
      // The replay again is not let back in, nor does it convict anyone.
      expect(receive(bob, [foreign[seq]!], mallory).counts).toMatchObject({ ignored: 1, rejected: 0 })
    }
  })

  it('lists a held op whose rules read what is not here, and takes it once that is got beside', async () => {
    const alice = await agent()
    const bob = await receiver({ now: 'held' })
    const note = await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'one' }))
    const update = await alice.cell.call((hdk) => hdk.update_entry(note, { text: 'two' }))
    const ops = opsOf(alice)
    receive(bob, ops.slice(0, 3), alice)
    const updateOp = ops.at(-1)!
    const waiting = receive(bob, [updateOp], alice)
    expect(waiting.counts.pending).toBe(1)
    expect(waiting.needs).toHaveLength(1)
    expect(waiting.needs[0]!.needs).toEqual([encodeHashB64(alice.store.getAction(note)!.hash)])
    expect(bob.store.getAction(update)).toBeNull()
    const original = alice.store.getAction(note)!
    const got = bob.ingest.receiveHeld(waiting.needs[0]!, [
      { action: original, entry: alice.store.getEntry(original.entryHash!) },
    ])
    expect(got.counts.stored).toBe(1)
    expect(bob.store.getAction(update)?.held).toBe(true)
  })

  it("takes held ops into the chain once it keeps the author's chain and the chain reaches them", async () => {
    const alice = await agent()
    const keep: { now: Keep } = { now: 'held' }
    const bob = await receiver(keep)
    for (const text of ['one', 'two', 'three'])
      await alice.cell.call((hdk) => hdk.create_entry('Note', { text }))
    const ops = opsOf(alice)
    receive(bob, [...ops.slice(0, 3), ...ops.slice(4)], alice)
    expect(bob.store.chainHead(bob.cell.dnaHash, alice.cell.agentPubKey)?.seq).toBe(2)
    // This peer becomes the author's activity holder: the gap's op comes, and the rest follow it in.
    keep.now = 'chain'
    const result = receive(bob, [ops[3]!], alice)
    expect(result.counts.stored).toBe(1)
    const head = alice.store.chainHead(alice.cell.dnaHash, alice.cell.agentPubKey)!
    expect(bob.store.chainHead(bob.cell.dnaHash, alice.cell.agentPubKey)).toEqual(head)
    const chain = [...bob.store.chainActions(bob.cell.dnaHash, alice.cell.agentPubKey)]
    expect(chain.map((a) => a.seq)).toEqual(ops.map((_, i) => i))
    expect(chain.every((a) => a.held === undefined)).toBe(true)
    expect([...bob.store.heldActions(bob.cell.dnaHash)]).toEqual([])
  })
})
