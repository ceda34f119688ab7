/**
 * A chain op whose rules read a record not held here (issue 57): once sharded, an author's activity
 * holder keeps its chain but need not hold what the chain's actions read (a claim reads a task held at
 * the task's holders). Such an op is listed in `needs` as a chain op beside waiting, and judged again in
 * its chain with what holders gave (`receiveHeld`); what follows it in the chain comes in behind it.
 * Listed at every retry, it is asked of holders once at a time (held-needs.ts).
 */
import { describe, expect, it } from 'vitest'
import { HeldNeeds } from '../../../../host/conductor/embedded/replication/held-needs.ts'
import type { HolderGet } from '../../../../host/conductor/embedded/replication/holder-get.ts'
import { encodeHashB64 } from '../../../../host/identity/hash.ts'
import { silentLogger } from '../../../../host/log/logger.ts'
import { notesCells, type TestCell } from '../fixtures/test-cell.ts'
import { ingestOn, opsOf } from './fixtures/ingest.ts'

const open = notesCells()

/** Ingest into `tc`, keeping every op in its chain (the activity holder of every author). */
const ingestOf = (tc: TestCell) => ingestOn(tc, { place: () => 'chain' })

describe('a chain op whose rules read what is held elsewhere', () => {
  it('is listed as a chain need and taken into its chain beside what holders gave', async () => {
    const [alice, bob, carol] = [await open(), await open(), await open()]
    const note = await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'parent' }))
    ingestOf(bob).receive({ dnaHash: bob.cell.dnaHash, ops: opsOf(alice) }, alice.cell.agentPubKey)
    await bob.cell.call((hdk) => hdk.create_entry('Reply', { parent: encodeHashB64(note), text: 'hi' }))
    await bob.cell.call((hdk) => hdk.create_entry('Note', { text: 'after' }))
    // Carol keeps bob's chain and holds nothing of alice's: the reply waits, the note after it too.
    const ingest = ingestOf(carol)
    const first = ingest.receive({ dnaHash: carol.cell.dnaHash, ops: opsOf(bob) }, bob.cell.agentPubKey)
    expect(first.counts.pending).toBe(2)
    // Listed each time it is tried (held-needs.ts asks once per op).
    expect(new Set(first.needs.map((n) => n.op))).toEqual(new Set([first.needs[0]!.op]))
    expect(first.needs.map((n) => [n.needs, n.chain])).toContainEqual([[encodeHashB64(note)], true])
    const parent = alice.store.getAction(note)!
    const got = ingest.receiveHeld(first.needs[0]!, [
      { action: parent, entry: alice.store.getEntry(parent.entryHash!) },
    ])
    expect(got.counts.stored).toBe(2)
    const head = bob.store.chainHead(bob.cell.dnaHash, bob.cell.agentPubKey)
    expect(carol.store.chainHead(carol.cell.dnaHash, bob.cell.agentPubKey)).toEqual(head)
    expect([...carol.store.heldActions(carol.cell.dnaHash)]).toEqual([])
    // What it read was only beside: not stored here.
    expect(carol.store.getAction(note)).toBeNull()
  })

  it('is asked of holders once while its get is under way, however often it is listed', async () => {
    const [alice, bob] = [await open(), await open()]
    const note = await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'parent' }))
    ingestOf(bob).receive({ dnaHash: bob.cell.dnaHash, ops: opsOf(alice) }, alice.cell.agentPubKey)
    await bob.cell.call((hdk) => hdk.create_entry('Reply', { parent: encodeHashB64(note), text: 'hi' }))
    const need = { cell: bob.cell, op: opsOf(bob).at(-1)!, sender: null, needs: [encodeHashB64(note)] }
    const asked: string[] = []
    let answer = () => {}
    const holderGet: Pick<HolderGet, 'get'> = {
      get: (_, hash) => {
        asked.push(hash)
        return new Promise((_, reject) => {
          answer = () => reject(new Error('no holder has it'))
        })
      },
    }
    const needs = new HeldNeeds({
      holderGet,
      receive: () => null,
      logger: silentLogger(),
      signal: new AbortController().signal,
    })
    needs.take([need, { ...need }])
    needs.take([need])
    expect(asked).toEqual([encodeHashB64(note)])
    answer()
    await new Promise((resolve) => setTimeout(resolve, 0))
    // Done with (not got): listed again, asked again.
    needs.take([need])
    expect(asked).toHaveLength(2)
  })
})
