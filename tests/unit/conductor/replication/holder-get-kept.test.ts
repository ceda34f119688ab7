/**
 * A record got from its holders is kept (issue 57's idle cost): its action and entry never change, so
 * asked again it is answered without a holder (a sharded peer's registry reads each far capability every
 * 30 s); once its author is barred here it is asked afresh and refused.
 */
import { describe, expect, it } from 'vitest'
import { RecordNotFoundError } from '../../../../host/conductor/embedded/replication/errors.ts'
import { HolderGet } from '../../../../host/conductor/embedded/replication/holder-get.ts'
import { wireOpOf } from '../../../../host/conductor/embedded/replication/op-wire.ts'
import {
  decodeRecordAsk,
  encodeRecordAnswer,
} from '../../../../host/conductor/embedded/replication/record-get-wire.ts'
import { encodeHashB64 } from '../../../../host/identity/hash.ts'
import type { DnaName } from '../../../../zomes-bindings/index.ts'
import { notesCells, type TestCell } from '../fixtures/test-cell.ts'

const agent = notesCells()
const DNA = 'resource_mesh' as DnaName
const agentOf = (tc: TestCell) => encodeHashB64(tc.cell.agentPubKey)

/** `reader`'s gets, answered by `author`'s store as its holder; `asked` counts the requests. */
function getsFrom(reader: TestCell, author: TestCell, barred: Set<string>) {
  const asked = { count: 0 }
  const rpc = {
    async request(_peer: unknown, _protocol: string, bytes: Uint8Array) {
      asked.count++
      const ask = decodeRecordAsk(bytes)
      if (ask.kind !== 'get') throw new Error('a get was asked')
      const action = author.store.getAction(ask.actionHash)
      return encodeRecordAnswer(
        action && wireOpOf(action, action.entryHash && author.store.getEntry(action.entryHash)),
      )
    },
  }
  const gets = new HolderGet({
    rpc: rpc as never,
    conductor: { agentPubKey: agentOf(reader), store: reader.store, cell: () => reader.cell },
    replication: { warrantAuthor: () => {}, isWarranted: (a) => barred.has(a), isRevoked: () => false },
    members: () => [agentOf(author)],
    holders: 1,
  })
  return { gets, asked }
}

describe('a record got from its holders', () => {
  it('is answered again without asking a holder, until its author is barred here', async () => {
    const [alice, erin] = [await agent(), await agent()]
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'kept' }))
    const note = encodeHashB64(alice.cell.chain.head.hash)
    const barred = new Set<string>()
    const { gets, asked } = getsFrom(erin, alice, barred)
    const first = await gets.get(DNA, note)
    const again = await gets.get(DNA, note)
    expect(again.op).toEqual(first.op)
    expect(again.from).toBe(agentOf(alice))
    expect(asked.count).toBe(1)
    // Its author (here its only holder too) barred: not answered from what was kept.
    barred.add(agentOf(alice))
    await expect(gets.get(DNA, note)).rejects.toBeInstanceOf(RecordNotFoundError)
  })
})
