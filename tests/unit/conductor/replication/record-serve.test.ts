import type { PeerId } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { MalformedMessageError } from '../../../../host/conductor/embedded/replication/errors.ts'
import {
  decodeRecordAnswer,
  encodeRecordGet,
} from '../../../../host/conductor/embedded/replication/record-get-wire.ts'
import {
  RecordGetsRefusedError,
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
