/**
 * Zome reads of records this peer does not hold (issue 57): `far` writes, `near` holds nothing of it
 * and reads through a RemoteReads that answers from `far`'s store, as holders would.
 */
import type { Record as HcRecord } from '@holochain/client'
import { decode } from '@msgpack/msgpack'
import { describe, expect, it } from 'vitest'
import { Cell } from '../../../host/conductor/embedded/cell.ts'
import type { GotReads, ReadMiss, RemoteReads } from '../../../host/conductor/embedded/remote-reads.ts'
import { encodeHashB64, hashesEqual } from '../../../host/identity/hash.ts'
import { openAgentKey } from '../../../host/identity/keystore.ts'
import type { ChainStore } from '../../../host/storage/chain-store.ts'
import type { DnaName } from '../../../zomes-bindings/index.ts'
import {
  NOTES_DNA,
  NOTES_MODIFIERS,
  notesCells,
  notesRules,
  openNotesCell,
  tempDir,
} from './fixtures/test-cell.ts'

const utf8 = (s: string) => new TextEncoder().encode(s)
const text = (r: HcRecord | null) =>
  r && 'Present' in r.entry ? (decode(r.entry.Present.entry as Uint8Array) as { text: string }).text : null

/** Holders that answer from `store`; `elsewhere` says what this peer does not hold. */
function holdersOf(store: ChainStore, dnaHash: Uint8Array, elsewhere = true) {
  const asked: ReadMiss[][] = []
  const remote: RemoteReads = {
    elsewhere: () => elsewhere,
    async fetch(_dna, misses) {
      asked.push([...misses])
      const got: GotReads = { records: [], linkSets: [] }
      const withEntry = (hash: Uint8Array) => {
        const action = store.getAction(hash)
        if (action) got.records.push({ action, entry: action.entryHash && store.getEntry(action.entryHash) })
      }
      for (const miss of misses) {
        if (miss.kind === 'record') {
          withEntry(miss.hash)
          for (const a of store.actionsTargeting(miss.hash)) withEntry(a.hash)
          continue
        }
        const links = store.getLinks({ dnaHash, ...miss, includeDeleted: miss.deleted })
        for (const l of links) withEntry(l.createHash)
        got.linkSets.push({ miss, links })
      }
      return got
    },
  }
  return { remote, asked }
}

describe('zome reads of records held elsewhere', () => {
  const open = notesCells()

  it('gets a far record, its update and the links on a far base, in rounds, and stores none of it', async () => {
    const far = await open()
    const note = await far.cell.call((hdk) => hdk.create_entry('Note', { text: 'first' }))
    const base = await far.cell.call((hdk) => {
      hdk.update_entry(note, { text: 'second' })
      const anchor = hdk.anchor('notes')
      hdk.create_link(anchor, note, 'Tagged', utf8('gpu'))
      return anchor
    })
    const holders = holdersOf(far.store, far.cell.dnaHash)
    const near = await openNotesCell(await tempDir(), { remote: holders.remote })
    const listed = await near.cell.read((hdk) =>
      hdk.get_links(base, 'Tagged').map((link) => text(hdk.get_latest(link.target))),
    )
    expect(listed).toEqual(['second'])
    // Round 1: the anchor's links; round 2: the note with its update.
    expect(holders.asked.map((round) => round.map((m) => m.kind))).toEqual([['links'], ['record']])
    expect(near.store.getAction(note)).toBeNull()
    near.store.close()
  })

  it("commits a re-run call's writes once", async () => {
    const far = await open()
    const note = await far.cell.call((hdk) => hdk.create_entry('Note', { text: 'parent' }))
    const holders = holdersOf(far.store, far.cell.dnaHash)
    const near = await openNotesCell(await tempDir(), { remote: holders.remote })
    const seqBefore = near.cell.chain.head.seq
    let runs = 0
    // A reply needs its parent (the rules ask for it): the first run throws for want of it.
    const reply = await near.cell.call((hdk) => {
      runs++
      hdk.create_entry('Note', { text: `mine ${runs}` })
      return hdk.create_entry('Reply', { parent: encodeHashB64(note), text: 'hi' })
    })
    expect(runs).toBe(2)
    expect(near.cell.chain.head.seq).toBe(seqBefore + 2)
    // The second run's note and the reply, not the first run's note.
    expect(near.cell.chain.head.hash).toEqual(reply)
    const mine = [...near.store.chainActions(near.cell.dnaHash, near.cell.agentPubKey)].at(-2)!
    expect(await near.cell.read((hdk) => text(hdk.get(mine.hash)))).toBe('mine 2')
    near.store.close()
  })

  it('answers with nothing when no holder has it, after one round', async () => {
    const far = await open()
    const holders = holdersOf(far.store, far.cell.dnaHash)
    const near = await openNotesCell(await tempDir(), { remote: holders.remote })
    const missing = await far.cell.call((hdk) => hdk.create_entry('Note', { text: 'x' }))
    // `far` holds it, but the asker is pointed at an empty store.
    const empty = holdersOf(near.store, near.cell.dnaHash)
    const lonely = await openNotesCell(await tempDir(), { remote: empty.remote })
    expect(await lonely.cell.read((hdk) => hdk.get(missing))).toBeNull()
    expect(empty.asked).toHaveLength(1)
    lonely.store.close()
    near.store.close()
  })

  it('asks nobody where records are not held elsewhere', async () => {
    const far = await open()
    const note = await far.cell.call((hdk) => hdk.create_entry('Note', { text: 'x' }))
    const holders = holdersOf(far.store, far.cell.dnaHash, false)
    const near = await openNotesCell(await tempDir(), { remote: holders.remote })
    expect(await near.cell.read((hdk) => hdk.get(note))).toBeNull()
    expect(await near.cell.read((hdk) => hdk.get_links(note, 'NoteToReply'))).toEqual([])
    expect(holders.asked).toEqual([])
    near.store.close()
  })

  it("reads a far record's updates from its store where it holds its author's chain, asking nothing", async () => {
    const far = await open()
    const note = await far.cell.call((hdk) => hdk.create_entry('Note', { text: 'first' }))
    await far.cell.call((hdk) => hdk.update_entry(note, { text: 'second' }))
    // Another agent on the same store: it holds `far`'s chain, as `far`'s activity holders do, and
    // nothing else of `far`'s (the note's hash lives elsewhere).
    const holders = holdersOf(far.store, far.cell.dnaHash)
    const remote = {
      ...holders.remote,
      elsewhere: (_dna: DnaName, basis: Uint8Array) => !hashesEqual(basis, far.cell.agentPubKey),
    }
    const activityHolder = Cell.open({
      store: far.store,
      key: await openAgentKey(await tempDir()),
      dna: NOTES_DNA,
      modifiers: NOTES_MODIFIERS,
      validator: notesRules,
      remote,
    })
    expect(await activityHolder.read((hdk) => text(hdk.get_latest(note)))).toBe('second')
    expect(holders.asked).toEqual([])
  })

  it('reads its own records and their updates from its store, asking nothing', async () => {
    const near = await open()
    const holders = holdersOf(near.store, near.cell.dnaHash)
    const own = await openNotesCell(near.dataDir, { remote: holders.remote })
    const note = await own.cell.call((hdk) => hdk.create_entry('Note', { text: 'a' }))
    await own.cell.call((hdk) => hdk.update_entry(note, { text: 'b' }))
    expect(await own.cell.read((hdk) => text(hdk.get_latest(note)))).toBe('b')
    expect(holders.asked).toEqual([])
    expect(hashesEqual(own.cell.agentPubKey, near.cell.agentPubKey)).toBe(true)
  })
})
