import { ActionType } from '@holochain/client'
import { afterEach, describe, expect, it } from 'vitest'
import { OpIngest } from '../../../../host/conductor/embedded/replication/op-ingest.ts'
import type { WireOp } from '../../../../host/conductor/embedded/replication/op-wire.ts'
import { RevocationList } from '../../../../host/conductor/embedded/replication/revocations.ts'
import { encodeCanonical } from '../../../../host/identity/canonical.ts'
import { encodeHashB64 } from '../../../../host/identity/hash.ts'
import { silentLogger } from '../../../../host/log/logger.ts'
import { openSqliteChainStore } from '../../../../host/storage/sqlite-chain-store.ts'
import { NOTES_MODIFIERS, openNotesCell, type TestCell, tempDir } from '../fixtures/test-cell.ts'
import { craftAction, craftCreate, strangerKey } from './fixtures/forge.ts'
import { b64, ingestOn, opsOf, receive, warrantsOf } from './fixtures/ingest.ts'

const opened: TestCell[] = []

async function agent(modifiers = NOTES_MODIFIERS): Promise<TestCell> {
  const tc = await openNotesCell(await tempDir(), { modifiers })
  opened.push(tc)
  return tc
}

/** A receiving peer: its own cell and the ingest pipeline over its store. */
async function receiver(revocations?: RevocationList): Promise<TestCell & { ingest: OpIngest }> {
  const tc = await agent()
  return { ...tc, ingest: ingestOn(tc, { revocations }) }
}

afterEach(() => {
  for (const tc of opened.splice(0)) tc.store.close()
})

describe('ingest of received ops', () => {
  it("stores another agent's chain from genesis, readable through the HDK like local records", async () => {
    const alice = await agent()
    const bob = await receiver()
    const { note, link } = await alice.cell.call((hdk) => {
      const note = hdk.create_entry('Note', { text: 'hello' })
      const link = hdk.create_link(hdk.anchor('notes'), note, 'Tagged')
      return { note, link }
    })
    await alice.cell.call((hdk) => hdk.update_entry(note, { text: 'hello, edited' }))

    const result = receive(bob, opsOf(alice), alice)
    expect(result.counts).toMatchObject({ stored: 7, rejected: 0, pending: 0 })
    expect(bob.store.chainHead(bob.cell.dnaHash, alice.cell.agentPubKey)).toEqual(
      alice.store.chainHead(alice.cell.dnaHash, alice.cell.agentPubKey),
    )
    const latest = await bob.cell.call((hdk) => hdk.get_latest(note))
    expect(latest && (await bob.cell.call((hdk) => hdk.entry_of(latest)))).toEqual({ text: 'hello, edited' })
    const links = await bob.cell.call((hdk) => hdk.get_links(hdk.anchor('notes'), 'Tagged'))
    expect(links.map((l) => l.create_link_hash)).toEqual([link])

    expect(receive(bob, opsOf(alice), alice).counts).toMatchObject({ duplicate: 7, stored: 0 })
    // A peer never takes its own chain from the network.
    expect(alice.store.chainHead(alice.cell.dnaHash, alice.cell.agentPubKey)?.seq).toBe(6)
  })

  it('holds ops that arrive before their predecessors and stores them once those arrive', async () => {
    const alice = await agent()
    const bob = await receiver()
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'one' }))
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'two' }))
    const ops = opsOf(alice)
    for (const op of ops.slice(1).reverse()) {
      const result = receive(bob, [op], alice)
      expect(result.counts.pending).toBe(1)
      expect(result.waiting).toBe(true)
    }
    expect(bob.ingest.pendingCount).toBe(ops.length - 1)
    const result = receive(bob, [ops[0]!], alice)
    expect(result.stored).toHaveLength(ops.length)
    expect(bob.ingest.pendingCount).toBe(0)
  })

  it('refuses an early op whose signature does not verify at once: only verified ops wait', async () => {
    const alice = await agent()
    const mallory = await agent()
    const bob = await receiver()
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'one' }))
    const ops = opsOf(alice)
    const last = ops.at(-1)!
    const forged = { ...last, signature: strangerKey().sign(last.action) }
    // It comes before its predecessors, so it would wait; waiting ops are not verified again.
    expect(receive(bob, [forged], mallory).counts).toMatchObject({ rejected: 1, pending: 0 })
    expect(bob.ingest.pendingCount).toBe(0)
    expect(warrantsOf(bob)).toEqual([[b64(mallory), 'sys.signature']])
    const result = receive(bob, ops, alice)
    expect(result.stored).toHaveLength(ops.length)
  })

  it('takes in the batches of a burst in one store transaction, each with its own outcome, in order', async () => {
    const alice = await agent()
    const carol = await agent()
    const mallory = await agent()
    const bob = await receiver()
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'one' }))
    await carol.cell.call((hdk) => hdk.create_entry('Note', { text: 'two' }))
    const last = opsOf(carol).at(-1)!
    const forged = { ...last, signature: strangerKey().sign(last.action) }
    let transactions = 0
    const transaction = bob.store.transaction.bind(bob.store)
    bob.store.transaction = (fn, options) => {
      transactions++
      return transaction(fn, options)
    }
    const delivery = (ops: WireOp[], sender: TestCell) => ({
      batch: { dnaHash: bob.cell.dnaHash, ops },
      sender: sender.cell.agentPubKey,
    })
    const results = bob.ingest.receiveAll([
      delivery(opsOf(alice), alice),
      delivery([forged], mallory),
      delivery(opsOf(carol), carol),
    ])
    expect(transactions).toBe(1)
    expect(results.map((r) => [r.counts.stored, r.counts.rejected])).toEqual([
      [opsOf(alice).length, 0],
      [0, 1],
      [opsOf(carol).length, 0],
    ])
    expect(warrantsOf(bob)).toEqual([[b64(mallory), 'sys.signature']])
  })

  it("holds an op whose rules need another agent's record, and retries it when that arrives", async () => {
    const alice = await agent()
    const carol = await agent()
    const bob = await receiver()
    const note = await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'question' }))
    // Carol can only reply to a note she holds.
    const carolIngest = new OpIngest({
      store: carol.store,
      cells: [carol.cell],
      self: carol.cell.agentPubKey,
      logger: silentLogger(),
    })
    receive({ ingest: carolIngest, cell: carol.cell }, opsOf(alice), alice)
    const reply = await carol.cell.call((hdk) =>
      hdk.create_entry('Reply', { parent: encodeHashB64(note), text: 'answer' }),
    )

    const early = receive(bob, opsOf(carol), carol)
    expect(early.counts).toMatchObject({ stored: 4, pending: 1 })
    expect(bob.store.getAction(reply)).toBeNull()
    const later = receive(bob, opsOf(alice), alice)
    expect(later.stored.map((a) => encodeHashB64(a.hash))).toContain(encodeHashB64(reply))
    expect(bob.ingest.pendingCount).toBe(0)
  })

  it('warrants the sender, never the claimed author, for a signature that does not verify', async () => {
    const alice = await agent()
    const mallory = await agent()
    const bob = await receiver()
    receive(bob, opsOf(alice), alice)
    const real = await craftCreate(alice, 'Note', { text: 'real' })
    const result = receive(bob, [{ ...real.op, signature: strangerKey().sign(real.op.action) }], mallory)
    expect(result.counts.rejected).toBe(1)
    expect(warrantsOf(bob)).toEqual([[b64(mallory), 'sys.signature']])
    expect(bob.store.getAction(real.hash)).toBeNull()
    // Mallory is not listened to any more; alice still is.
    expect(receive(bob, [real.op], mallory).counts.ignored).toBe(1)
    expect(receive(bob, [real.op], alice).counts.stored).toBe(1)
  })

  it('leaves one warrant for a flood of bad ops, not one per op', async () => {
    const alice = await agent()
    const mallory = await agent()
    const bob = await receiver()
    receive(bob, opsOf(alice), alice)
    const real = await craftCreate(alice, 'Note', { text: 'real' })
    const forger = strangerKey()
    // 3,000 garbage ops in one batch: the same forged op, each with another bad signature.
    const garbage = Array.from({ length: 3000 }, (_, i) => ({
      ...real.op,
      signature: forger.sign(Buffer.concat([real.op.action, Buffer.from([i & 0xff, i >> 8])])),
    }))
    const result = receive(bob, garbage, mallory)
    expect(result.counts).toMatchObject({ rejected: 1, ignored: 2999 })
    expect(warrantsOf(bob)).toEqual([[b64(mallory), 'sys.signature']])
  })

  it("warrants the sender of an op that claims to be this agent's but is not signed by it", async () => {
    const mallory = await agent()
    const bob = await receiver()
    const forged = await craftCreate(bob, 'Note', { text: 'I never wrote this' }, { signWith: strangerKey() })
    expect(receive(bob, [forged.op], mallory).counts.rejected).toBe(1)
    expect(warrantsOf(bob)).toEqual([[b64(mallory), 'sys.signature']])
    expect(bob.store.getAction(forged.hash)).toBeNull()
  })

  it('warrants the sender of a fork of its own chain (a second action at a seq it holds)', async () => {
    const mallory = await agent()
    const bob = await receiver()
    await bob.cell.call((hdk) => hdk.create_entry('Note', { text: 'mine' }))
    const head = bob.cell.chain.head
    // Signed with bob's own key (a stolen copy), at seq 4, which bob's chain already has.
    const fork = await craftCreate(bob, 'Note', { text: 'not mine' }, { prevSeq: head.seq - 1 })
    expect(receive(bob, [fork.op], mallory).counts.rejected).toBe(1)
    expect(warrantsOf(bob)).toEqual([[b64(mallory), 'chain.fork']])
    expect(bob.store.chainHead(bob.cell.dnaHash, bob.cell.agentPubKey)).toEqual({
      hash: head.hash,
      seq: head.seq,
    })
  })

  it('ignores, without blame, its own signed actions past its head (its chain restored from an older copy)', async () => {
    const alice = await agent()
    const bob = await receiver()
    const later = await craftCreate(bob, 'Note', { text: 'written before the restore' })
    expect(receive(bob, [later.op], alice).counts.ignored).toBe(1)
    expect(warrantsOf(bob)).toEqual([])
  })

  it('warrants the sender for entry bytes that do not match the signed entry hash', async () => {
    const alice = await agent()
    const mallory = await agent()
    const bob = await receiver()
    receive(bob, opsOf(alice), alice)
    const real = await craftCreate(alice, 'Note', { text: 'real' })
    const swapped = { ...real.op, entry: encodeCanonical({ text: 'swapped' }) }
    expect(receive(bob, [swapped], mallory).counts.rejected).toBe(1)
    expect(warrantsOf(bob)).toEqual([[b64(mallory), 'sys.entry']])
  })

  it('warrants the author of an entry the rules refuse, and ignores its later ops', async () => {
    const alice = await agent()
    const bob = await receiver()
    const relay = await agent()
    receive(bob, opsOf(alice), alice)
    const invalid = await craftCreate(alice, 'Note', { text: '' })
    // Relayed by someone else: what alice signed convicts alice all the same.
    expect(receive(bob, [invalid.op], relay).counts.rejected).toBe(1)
    expect(bob.store.listWarrants()).toEqual([
      expect.objectContaining({
        author: alice.cell.agentPubKey,
        rule: 'note.text_length',
        actionHash: invalid.hash,
        reportedBy: bob.cell.agentPubKey,
      }),
    ])
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'valid, but too late' }))
    expect(receive(bob, opsOf(alice, 4), alice).counts.ignored).toBe(1)
  })

  it('ignores, without a warrant, what a revoked agent authored from its revocation on; not what came before', async () => {
    const alice = await agent()
    const revocations = new RevocationList()
    const bob = await receiver(revocations)
    const before = await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'before' }))
    const revokedAt = alice.cell.chain.head.timestamp + 1
    revocations.add({ agent: b64(alice), invite_id: null }, revokedAt)
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'after' }))
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'and after' }))

    const result = receive(bob, opsOf(alice), alice)
    // Genesis (four actions) and the note before.
    expect(result.counts).toMatchObject({ stored: 5, ignored: 2, rejected: 0 })
    expect(bob.store.getAction(before)).not.toBeNull()
    expect(bob.store.chainHead(bob.cell.dnaHash, alice.cell.agentPubKey)?.hash).toEqual(before)
    expect(bob.store.listWarrants()).toEqual([])
    // Caught up again later: still nothing past the revocation.
    expect(receive(bob, opsOf(alice, 5), alice).counts).toMatchObject({ stored: 0, ignored: 2 })
  })

  it('does not warrant an author sending an action at a seq held here that builds on no action of this chain', async () => {
    const alice = await agent()
    const bob = await receiver()
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'first' }))
    receive(bob, opsOf(alice), alice)
    // At seq 4 after no action at seq 3 of this chain (another DNA's, labelled this one's: the DNA is not signed).
    const other = alice.store.chainRange(alice.cell.dnaHash, alice.cell.agentPubKey, 1, 1)[0]!.hash
    const elsewhere = await craftCreate(alice, 'Note', { text: 'other' }, { prevSeq: 3, prevAction: other })
    expect(receive(bob, [elsewhere.op], alice).counts).toMatchObject({ ignored: 1, rejected: 0 })
    // The same action of its chain again, from its author: a duplicate.
    expect(receive(bob, opsOf(alice, 4), alice).counts).toMatchObject({ duplicate: 1, rejected: 0 })
    expect(warrantsOf(bob)).toEqual([])
  })

  it('warrants the author of a second action at a seq it already published (a fork)', async () => {
    const alice = await agent()
    const bob = await receiver()
    const relay = await agent()
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'first' }))
    receive(bob, opsOf(alice), alice)
    const fork = await craftCreate(alice, 'Note', { text: 'rewritten' }, { prevSeq: 3 })
    expect(receive(bob, [fork.op], relay).counts.rejected).toBe(1)
    expect(warrantsOf(bob)).toEqual([[b64(alice), 'chain.fork']])
    expect(bob.store.getAction(fork.hash)).toBeNull()
  })

  it("cannot be made to warrant an author by replaying its ops of another DNA as this DNA's", async () => {
    const alice = await agent()
    const aliceElsewhere = await openNotesCell(alice.dataDir, {
      modifiers: { ...NOTES_MODIFIERS, networkSeed: 'another-network' },
    })
    opened.push(aliceElsewhere)
    const bob = await receiver()
    const mallory = await agent()
    await aliceElsewhere.cell.call((hdk) => hdk.create_entry('Note', { text: 'elsewhere' }))
    const foreign = opsOf(aliceElsewhere)
    // Its genesis names the other DNA; its later ops do not extend the chain held here.
    expect(receive(bob, [foreign[0]!], mallory).counts.ignored).toBe(1)
    receive(bob, opsOf(alice), alice)
    expect(receive(bob, [foreign[4]!], mallory).counts.ignored).toBe(1)
    expect(bob.store.listWarrants()).toEqual([])
    // From alice herself, an op that does not extend her chain is hers to answer for.
    expect(receive(bob, [foreign[4]!], alice).counts.rejected).toBe(1)
    expect(warrantsOf(bob)).toEqual([[b64(alice), 'chain.prev_action']])
  })

  it('warrants the author of a signed action of a type no DNA here writes, and the sender of garbage', async () => {
    const alice = await agent()
    const mallory = await agent()
    const bob = await receiver()
    receive(bob, opsOf(alice), alice)
    const closeChain = await craftAction(
      alice,
      { type: ActionType.CloseChain, new_target: null } as unknown as Parameters<typeof craftAction>[1],
      null,
    )
    expect(receive(bob, [closeChain.op], alice).counts.rejected).toBe(1)
    expect(warrantsOf(bob)).toEqual([[b64(alice), 'sys.action_shape']])
    const garbage = { action: new Uint8Array([1, 2, 3]), signature: new Uint8Array(64), entry: null }
    expect(receive(bob, [garbage], mallory).counts.rejected).toBe(1)
    expect(warrantsOf(bob).at(-1)).toEqual([b64(mallory), 'sys.malformed'])
  })

  it('keeps its warrants across restarts', async () => {
    const alice = await agent()
    const bob = await receiver()
    receive(bob, opsOf(alice), alice)
    receive(bob, [(await craftCreate(alice, 'Note', { text: '' })).op], alice)
    bob.store.close()
    const reopened = openSqliteChainStore(`${bob.dataDir}/conductor.sqlite`)
    try {
      const ingest = new OpIngest({
        store: reopened,
        cells: [bob.cell],
        self: bob.cell.agentPubKey,
        logger: silentLogger(),
      })
      expect(ingest.isWarranted(alice.cell.agentPubKey)).toBe(true)
    } finally {
      reopened.close()
    }
  })
})
