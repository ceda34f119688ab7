import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decodeAction } from '../../../../host/conductor/embedded/action.ts'
import type { GotRecord } from '../../../../host/conductor/embedded/replication/holder-get.ts'
import { opHolders } from '../../../../host/conductor/embedded/replication/op-holders.ts'
import { wireOpOf } from '../../../../host/conductor/embedded/replication/op-wire.ts'
import { RecordReads } from '../../../../host/conductor/embedded/replication/record-reads.ts'
import { decodeHashB64, encodeHashB64, holoHashFrom32 } from '../../../../host/identity/hash.ts'
import type { DnaName } from '../../../../zomes-bindings/index.ts'
import { notesCells, type TestCell } from '../fixtures/test-cell.ts'

const agent = notesCells()
// The notes cell stands in for a DNA of the contract: reads name the DNA only to find its cell.
const DNA = 'agent_registry' as DnaName

const agentOf = (tc: TestCell) => encodeHashB64(tc.cell.agentPubKey)

async function writeNote(tc: TestCell, text: string): Promise<Uint8Array> {
  await tc.cell.call((hdk) => hdk.create_entry('Note', { text }))
  return tc.cell.chain.head.hash
}

/** `reader` reading through RecordReads, with a get from holders that `author`'s store answers. */
function reads(reader: TestCell, author: TestCell, members: string[], holders: number, sharded = true) {
  const asked: string[] = []
  const carried: { dna: DnaName; from: string; count: number }[] = []
  const holderGet = {
    async get(_dna: DnaName, actionHash: string): Promise<GotRecord> {
      asked.push(actionHash)
      const { store } = author
      const action = store.getAction(decodeHashB64(actionHash, 'action'))!
      const entry = action.entryHash && store.getEntry(action.entryHash)
      return { op: wireOpOf(action, entry), action: decodeAction(action.bytes), entry, from: agentOf(author) }
    },
  }
  const records = new RecordReads({
    conductor: { agentPubKey: agentOf(reader), store: reader.store, cell: () => reader.cell },
    replication: {
      receiveCarried: (dna, ops, from) => {
        carried.push({ dna, from, count: ops.length })
        return null
      },
    },
    members: () => members,
    holders,
    holderGet,
    sharded: (count) => sharded && count > holders,
  })
  return { records, asked, carried }
}

describe('reading a record wherever it lives', () => {
  it('reads what is held here from the store, asking nobody', async () => {
    const alice = await agent()
    const note = await writeNote(alice, 'held')
    const { records, asked, carried } = reads(alice, alice, [agentOf(alice)], 1)
    const read = await records.read(DNA, encodeHashB64(note))
    expect(read).toMatchObject({ from: agentOf(alice), held: true })
    expect(read.entry?.hash).toEqual(alice.store.getAction(note)!.entryHash)
    expect([asked, carried]).toEqual([[], []])
  })

  it("asks the holders for what is not held here, and keeps it only where this peer is one of the op's holders", async () => {
    const [alice, erin] = [await agent(), await agent()]
    const note = await writeNote(alice, 'far')
    const hash = encodeHashB64(note)
    const [a, e] = [agentOf(alice), agentOf(erin)]
    // Members by key alone: one closer to the note (and to Alice's key) than Erin, one further. (From a fixed pool of 64,
    // Erin's random key was closer or further than all of them about one run in 30.)
    const member = (i: number) =>
      encodeHashB64(
        holoHashFrom32(new Uint8Array(createHash('sha256').update(`member ${i}`).digest()), 'agent'),
      )
    // Closer: to the note and to Alice's key (her activity), so Erin holds the note neither way.
    const closerTo = (basis: Uint8Array, m: string) => opHolders(basis, [e, m], 1)[0] === m
    const first = (closerThanErin: boolean) => {
      for (let i = 0; ; i++) {
        const m = member(i)
        const closer = closerTo(note, m) && closerTo(alice.cell.agentPubKey, m)
        if (closerThanErin ? closer : !closerTo(note, m)) return m
      }
    }
    const [closer, further] = [first(true), first(false)]
    const cases: { members: string[]; holders: number; sharded?: boolean; held: boolean }[] = [
      // Erin is not the note's one holder: handed back, not taken in.
      { members: [a, e, closer], holders: 1, held: false },
      { members: [e, closer], holders: 1, held: false },
      // Erin is its holder: taken in as if carried by the holder that served it.
      { members: [e, further], holders: 1, held: true },
      // A mesh of R members or fewer: everyone holds everything, as before.
      { members: [a, e, closer], holders: 8, held: true },
      // Not sharded (a member on an older release): every peer keeps everything.
      { members: [e, closer], holders: 1, sharded: false, held: true },
    ]
    for (const { members, holders, sharded, held } of cases) {
      const { records, asked, carried } = reads(erin, alice, members, holders, sharded)
      const read = await records.read(DNA, hash)
      expect(read.from).toBe(agentOf(alice))
      expect(read.held).toBe(held)
      expect(read.op.action).toEqual(alice.store.getAction(note)!.bytes)
      expect(asked).toEqual([hash])
      expect(carried).toEqual(held ? [{ dna: DNA, from: agentOf(alice), count: 1 }] : [])
    }
    expect(erin.store.getAction(note)).toBeNull()
  })
})
