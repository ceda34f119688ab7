import { ActionType } from '@holochain/client'
import { beforeEach, describe, expect, it } from 'vitest'
import { SourceChain } from '../../../host/conductor/embedded/source-chain.ts'
import {
  InvalidEntryError,
  type RulesValidator,
  UnresolvedDependenciesError,
} from '../../../host/conductor/embedded/validation/validator.ts'
import { encodeHashB64 } from '../../../host/identity/hash.ts'
import { openAgentKey } from '../../../host/identity/keystore.ts'
import { notesRules, openNotesCell, tempDir } from './fixtures/test-cell.ts'

beforeEach(() => {
  notesRules.calls.length = 0
})

describe('validation before commit', () => {
  it('refuses an invalid entry with the rule and message, writing nothing of the call', async () => {
    const { cell, store } = await openNotesCell(await tempDir())
    const head = cell.chain.head
    const call = cell.call((hdk) => {
      hdk.create_entry('Note', { text: 'fine' })
      hdk.create_entry('Note', { text: '' })
    })
    await expect(call).rejects.toThrow(InvalidEntryError)
    await expect(call).rejects.toThrow('note.text_length: text must be 1..100 characters')
    expect(((await call.catch((e: unknown) => e)) as InvalidEntryError).rule).toBe('note.text_length')
    expect(cell.chain.head).toEqual(head)
    expect(store.chainHead(cell.dnaHash, cell.agentPubKey)).toEqual({ hash: head.hash, seq: head.seq })
    expect([...store.chainActions(cell.dnaHash, cell.agentPubKey)]).toHaveLength(4)
    store.close()
  })

  it('passes the op, author, properties and original to the rules', async () => {
    const { cell, store } = await openNotesCell(await tempDir())
    const created = await cell.call((hdk) => hdk.create_entry('Note', { text: 'v1' }))
    await cell.call((hdk) => hdk.update_entry(created, { text: 'v2' }))
    const update = notesRules.calls.at(-1)!
    expect(update).toMatchObject({
      dna: 'resource_mesh',
      entry_type: 'Note',
      op: 'update',
      author: encodeHashB64(cell.agentPubKey),
      entry: { text: 'v2' },
      properties: { flavour: 'test' },
      original: { action_hash: encodeHashB64(created), entry_type: 'Note', entry: { text: 'v1' } },
    })
    await cell.call((hdk) => hdk.delete_entry(created))
    expect(notesRules.calls.at(-1)).toMatchObject({ op: 'delete', entry: null, entry_type: 'Note' })
    store.close()
  })

  it('resolves the dependencies the rules ask for, and validates again', async () => {
    const { cell, store } = await openNotesCell(await tempDir())
    const note = await cell.call((hdk) => hdk.create_entry('Note', { text: 'parent' }))
    await cell.call((hdk) => hdk.create_entry('Reply', { parent: encodeHashB64(note), text: 'child' }))
    const [first, second] = notesRules.calls.slice(-2)
    expect(first!.deps).toEqual({})
    expect(second!.deps[encodeHashB64(note)]).toMatchObject({ entry_type: 'Note', entry: { text: 'parent' } })

    // A dependency written earlier in the same call is found in the pending writes.
    await cell.call((hdk) => {
      const parent = hdk.create_entry('Note', { text: 'same call' })
      hdk.create_entry('Reply', { parent: encodeHashB64(parent), text: 'child' })
    })

    // The dependency is found but breaks a rule.
    const reply = await cell.call((hdk) =>
      hdk.create_entry('Reply', { parent: encodeHashB64(note), text: 'r' }),
    )
    const bad = cell.call((hdk) => hdk.create_entry('Reply', { parent: encodeHashB64(reply), text: 'r2' }))
    await expect(bad).rejects.toThrow('reply.parent_is_note')
    store.close()
  })

  it('throws UnresolvedDependenciesError for records it does not hold', async () => {
    const other = await openNotesCell(await tempDir())
    const elsewhere = await other.cell.call((hdk) => hdk.create_entry('Note', { text: 'not here' }))
    other.store.close()

    const { cell, store } = await openNotesCell(await tempDir())
    const call = cell.call((hdk) =>
      hdk.create_entry('Reply', { parent: encodeHashB64(elsewhere), text: 'x' }),
    )
    await expect(call).rejects.toThrow(UnresolvedDependenciesError)
    expect(((await call.catch((e: unknown) => e)) as UnresolvedDependenciesError).deps).toEqual([
      encodeHashB64(elsewhere),
    ])
    store.close()
  })

  it('gives up on rules that keep asking for what they were given', async () => {
    const stubborn: RulesValidator = {
      validate: (input) =>
        input.entry_type === 'Reply'
          ? { outcome: 'unresolved', deps: [(input.entry as { parent: string }).parent] }
          : { outcome: 'valid' },
    }
    const { cell, store } = await openNotesCell(await tempDir(), { validator: stubborn })
    const note = await cell.call((hdk) => hdk.create_entry('Note', { text: 'p' }))
    const call = cell.call((hdk) => hdk.create_entry('Reply', { parent: encodeHashB64(note), text: 'x' }))
    await expect(call).rejects.toThrow(UnresolvedDependenciesError)
    store.close()
  })

  it('refuses a second writer whose head moved (no fork)', async () => {
    const dataDir = await tempDir()
    const a = await openNotesCell(dataDir)
    const stale = SourceChain.open({
      store: a.store,
      dnaName: a.cell.dna.name,
      dnaHash: a.cell.dnaHash,
      key: await openAgentKey(dataDir),
    })
    await a.cell.call((hdk) => hdk.create_entry('Note', { text: 'first writer' }))
    const write = stale.beginWrite()
    write.append({ type: ActionType.InitZomesComplete })
    expect(() => write.commit()).toThrow(/head moved/)
    a.store.close()
  })
})
