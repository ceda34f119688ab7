import type { PeerId } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { MalformedMessageError } from '../../../../host/conductor/embedded/replication/errors.ts'
import {
  decodeRecordAnswer,
  decodeRecordListAnswer,
  encodeRecordGet,
  encodeRecordList,
  MAX_LISTED,
  type RecordList,
} from '../../../../host/conductor/embedded/replication/record-get-wire.ts'
import {
  RecordGetsRefusedError,
  RecordListsUnservedError,
  recordServer,
} from '../../../../host/conductor/embedded/replication/record-serve.ts'
import { encodeCanonical } from '../../../../host/identity/canonical.ts'
import { encodeHashB64, hashContent } from '../../../../host/identity/hash.ts'
import { AskRate } from '../../../../host/usage/ask-rate.ts'
import { openNotesCell, type TestCell, tempDir } from '../fixtures/test-cell.ts'

const opened: TestCell[] = []
afterEach(() => {
  for (const tc of opened.splice(0)) tc.store.close()
})

const peer = (name: string) => ({ toString: () => name }) as PeerId

describe('serving record gets', () => {
  it('answers a held op of the DNA asked, none otherwise, and none of a barred author', async () => {
    const alice = await openNotesCell(await tempDir())
    opened.push(alice)
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'hello' }))
    const { dnaHash } = alice.cell
    const note = alice.cell.chain.head.hash
    const barred = new Set<string>()
    const serve = recordServer({ store: alice.store, barred: (agent) => barred.has(agent) })
    const get = async (dna: Uint8Array, action: Uint8Array) =>
      decodeRecordAnswer(await serve(encodeRecordGet({ dnaHash: dna, actionHash: action }), peer('bob')))

    const op = await get(dnaHash, note)
    expect(op?.action).toEqual(alice.store.getAction(note)!.bytes)
    expect(op?.entry).toEqual(encodeCanonical({ text: 'hello' }))
    expect(await get(dnaHash, hashContent(encodeCanonical({ never: 'written' }), 'action'))).toBeNull()
    expect(await get(note, note)).toBeNull()
    barred.add(encodeHashB64(alice.cell.agentPubKey))
    expect(await get(dnaHash, note)).toBeNull()
    await expect(serve(encodeCanonical({ v: 1, dna: dnaHash }), peer('bob'))).rejects.toThrow(
      MalformedMessageError,
    )
  })

  it('refuses a peer past its rate, saying when to ask again, and only that peer', async () => {
    const alice = await openNotesCell(await tempDir())
    opened.push(alice)
    let now = 0
    const serve = recordServer({
      store: alice.store,
      barred: () => false,
      rate: new AskRate(2),
      now: () => now,
    })
    const request = encodeRecordGet({ dnaHash: alice.cell.dnaHash, actionHash: alice.cell.chain.head.hash })
    await serve(request, peer('bob'))
    await serve(request, peer('bob'))
    await expect(serve(request, peer('bob'))).rejects.toThrow(RecordGetsRefusedError)
    await expect(serve(request, peer('bob'))).rejects.toThrow('ask again in 30 s')
    await serve(request, peer('carol'))
    now += 30_000
    await serve(request, peer('bob'))
  })
})

describe('serving record lists', () => {
  const utf8 = (s: string) => new TextEncoder().encode(s)

  it("answers a base's links newest first with their deletes when asked, bounded, and what targets a record", async () => {
    const alice = await openNotesCell(await tempDir())
    opened.push(alice)
    const { dnaHash } = alice.cell
    const base = await alice.cell.call((hdk) => hdk.anchor('notes'))
    const note = await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'a' }))
    const links = await alice.cell.call((hdk) =>
      Array.from({ length: MAX_LISTED + 2 }, (_, i) => hdk.create_link(base, note, 'Tagged', utf8(`t${i}`))),
    )
    await alice.cell.call((hdk) => hdk.delete_link(links[0]!))
    const update = await alice.cell.call((hdk) => hdk.update_entry(note, { text: 'b' }))
    const barred = new Set<string>()
    const serve = recordServer({ store: alice.store, lists: alice.store, barred: (a) => barred.has(a) })
    const list = async (l: RecordList, dna = dnaHash) =>
      decodeRecordListAnswer(await serve(encodeRecordList(dna, l), peer('bob')))
    const ask = { kind: 'links', base, linkType: 1, tagPrefix: new Uint8Array(), deleted: false } as const

    const live = await list(ask)
    expect(live.ops).toHaveLength(MAX_LISTED)
    expect(live.more).toBe(true)
    const hashes = live.ops.map((op) => encodeHashB64(hashContent(op.action, 'action')))
    expect(hashes[0]).toBe(encodeHashB64(links.at(-1)!))
    expect(hashes).not.toContain(encodeHashB64(links[0]!))
    const tagged = await list({ ...ask, tagPrefix: utf8('t0'), deleted: true })
    // t0 and its DeleteLink: a deleted link comes with what deleted it.
    expect(tagged.ops).toHaveLength(2)
    expect(tagged.more).toBe(false)
    expect((await list(ask, note)).ops).toEqual([])

    const targets = await list({ kind: 'targets', hash: note })
    expect(targets.ops.map((op) => encodeHashB64(hashContent(op.action, 'action')))).toEqual([
      encodeHashB64(update),
    ])
    barred.add(encodeHashB64(alice.cell.agentPubKey))
    expect((await list({ kind: 'targets', hash: note })).ops).toEqual([])
  })

  it("reads no more of a busy base's links than its answer takes", async () => {
    const alice = await openNotesCell(await tempDir())
    opened.push(alice)
    const base = await alice.cell.call((hdk) => hdk.anchor('busy'))
    const note = await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'a' }))
    await alice.cell.call((hdk) => {
      for (let i = 0; i < 4 * MAX_LISTED; i++) hdk.create_link(base, note, 'Tagged', utf8(`t${i}`))
    })
    let reads = 0
    const store = {
      getAction: (hash: Uint8Array) => {
        reads++
        return alice.store.getAction(hash)
      },
      getEntry: (hash: Uint8Array) => alice.store.getEntry(hash),
    }
    const serve = recordServer({ store, lists: alice.store, barred: () => false })
    const ask = { kind: 'links', base, linkType: 1, tagPrefix: new Uint8Array(), deleted: true } as const
    const answer = decodeRecordListAnswer(await serve(encodeRecordList(alice.cell.dnaHash, ask), peer('bob')))
    expect(answer.ops).toHaveLength(MAX_LISTED)
    expect(answer.more).toBe(true)
    expect(reads).toBeLessThanOrEqual(MAX_LISTED + 1)
  })

  it('refuses a list where it serves gets alone', async () => {
    const alice = await openNotesCell(await tempDir())
    opened.push(alice)
    const serve = recordServer({ store: alice.store, barred: () => false })
    const request = encodeRecordList(alice.cell.dnaHash, {
      kind: 'targets',
      hash: alice.cell.chain.head.hash,
    })
    await expect(serve(request, peer('bob'))).rejects.toThrow(RecordListsUnservedError)
  })
})
