import { ActionType, DetailsType, type Record as HcRecord } from '@holochain/client'
import { decode } from '@msgpack/msgpack'
import { describe, expect, it } from 'vitest'
import { RecordNotFoundError, UnknownTypeError } from '../../../host/conductor/embedded/errors.ts'
import { retypeHash } from '../../../host/identity/hash.ts'
import { notesRules, openNotesCell, tempDir } from './fixtures/test-cell.ts'

const utf8 = (s: string) => new TextEncoder().encode(s)
const text = (r: HcRecord | null) =>
  r && 'Present' in r.entry ? (decode(r.entry.Present.entry as Uint8Array) as { text: string }).text : null

/** The notes rules, each check taking `ms` of the clock: what a window's real leaves cost to check. */
const slowRules = (ms: number) => ({
  validate(input: Parameters<typeof notesRules.validate>[0]) {
    const until = Date.now() + ms
    while (Date.now() < until) {}
    return notesRules.validate(input)
  },
})

describe('HDK', () => {
  it("stamps a held call's writes with when it began, whatever checking them took", async () => {
    const { cell, store } = await openNotesCell(await tempDir(), { validator: slowRules(30) })
    const times = async (hold: boolean) => {
      const [a, b] = await cell.call((hdk) => {
        if (hold) hdk.hold_time()
        return [hdk.create_entry('Note', { text: 'a' }), hdk.create_entry('Note', { text: 'b' })]
      })
      const at = async (hash: Uint8Array) =>
        (await cell.call((hdk) => hdk.get(hash)))!.signed_action.hashed.content.timestamp
      return (await at(b!)) - (await at(a!))
    }
    expect(await times(true)).toBe(1)
    // Unheld, each action is stamped when signed, after its own check.
    expect(await times(false)).toBeGreaterThanOrEqual(30_000)
    store.close()
  })

  it('gets records by action hash and by entry hash, shaped like @holochain/client records', async () => {
    const { cell, store } = await openNotesCell(await tempDir())
    const created = await cell.call((hdk) => hdk.create_entry('Note', { text: 'hello' }))
    const byAction = await cell.call((hdk) => hdk.get(created))
    const action = byAction!.signed_action.hashed.content
    expect(action.type).toBe(ActionType.Create)
    expect(action.author).toEqual(cell.agentPubKey)
    expect(byAction!.signed_action.signature).toHaveLength(64)
    expect(byAction!.entry).toEqual({ Present: { entry_type: 'App', entry: expect.any(Uint8Array) } })
    expect(text(byAction)).toBe('hello')
    if (action.type !== ActionType.Create) throw new Error('unreachable')
    expect(action.entry_type).toEqual({ App: { entry_index: 0, zome_index: 0, visibility: 'Public' } })

    const byEntry = await cell.call((hdk) => hdk.get(action.entry_hash))
    expect(byEntry!.signed_action.hashed.hash).toEqual(created)
    const agentEntry = await cell.call((hdk) => hdk.get(retypeHash(cell.agentPubKey, 'entry')))
    expect(agentEntry!.entry).toEqual({ Present: { entry_type: 'Agent', entry: cell.agentPubKey } })
    expect(await cell.call((hdk) => hdk.get(retypeHash(created, 'entry')))).toBeNull()
    store.close()
  })

  it('follows updates to the latest version and reports details', async () => {
    const { cell, store } = await openNotesCell(await tempDir())
    const v1 = await cell.call((hdk) => hdk.create_entry('Note', { text: 'v1' }))
    const v2 = await cell.call((hdk) => hdk.update_entry(v1, { text: 'v2' }))
    await cell.call((hdk) => hdk.update_entry(v2, { text: 'v3' }))
    expect(text(await cell.call((hdk) => hdk.get_latest(v1)))).toBe('v3')
    const details = await cell.call((hdk) => hdk.get_details(v1))
    expect(details?.type).toBe(DetailsType.Record)
    expect(details?.type === DetailsType.Record && details.content.updates.map((u) => u.hashed.hash)).toEqual(
      [v2],
    )

    await cell.call((hdk) => hdk.delete_entry(v1))
    expect(await cell.call((hdk) => hdk.get_latest(v1))).toBeNull()
    const after = await cell.call((hdk) => hdk.get_details(v1))
    expect(after?.type === DetailsType.Record && after.content.deletes).toHaveLength(1)
    // The record itself stays readable by its action hash, as in Holochain.
    expect(text(await cell.call((hdk) => hdk.get(v1)))).toBe('v1')
    store.close()
  })

  it('gets links by type and tag prefix, without deleted ones', async () => {
    const { cell, store } = await openNotesCell(await tempDir())
    const { base, links } = await cell.call((hdk) => {
      const base = hdk.anchor('notes')
      const a = hdk.create_entry('Note', { text: 'a' })
      const b = hdk.create_entry('Note', { text: 'b' })
      const links = [
        hdk.create_link(base, a, 'Tagged', utf8('gpu:h100')),
        hdk.create_link(base, b, 'Tagged', utf8('gpu:a100')),
        hdk.create_link(base, b, 'Tagged', utf8('cpu')),
        hdk.create_link(base, a, 'NoteToReply', utf8('gpu:h100')),
      ]
      // Pending links are visible inside the call that wrote them.
      expect(hdk.get_links(base, 'Tagged')).toHaveLength(3)
      return { base, links }
    })
    const tagged = await cell.call((hdk) => hdk.get_links(base, 'Tagged', { tag_prefix: utf8('gpu:') }))
    expect(tagged.map((l) => l.create_link_hash)).toEqual([links[0], links[1]])
    expect(tagged[0]).toMatchObject({
      base,
      author: cell.agentPubKey,
      link_type: 0 + 1,
      zome_index: 0,
      tag: utf8('gpu:h100'),
    })
    expect(
      await cell.call((hdk) => hdk.get_links(base, 'Tagged', { tag_prefix: utf8('gpu:h') })),
    ).toHaveLength(1)
    expect(await cell.call((hdk) => hdk.get_links(base, 'NoteToReply'))).toHaveLength(1)

    await cell.call((hdk) => hdk.delete_link(links[0]!))
    const left = await cell.call((hdk) => hdk.get_links(base, 'Tagged'))
    expect(left.map((l) => l.create_link_hash)).toEqual([links[1], links[2]])
    store.close()
  })

  it('names unknown types and missing records', async () => {
    const { cell, store } = await openNotesCell(await tempDir())
    await expect(cell.call((hdk) => hdk.create_entry('Nope', {}))).rejects.toThrow(UnknownTypeError)
    await expect(cell.call((hdk) => hdk.get_links(hdk.anchor('x'), 'Nope'))).rejects.toThrow(UnknownTypeError)
    const missing = retypeHash(cell.agentPubKey, 'action')
    await expect(cell.call((hdk) => hdk.update_entry(missing, { text: 'x' }))).rejects.toThrow(
      RecordNotFoundError,
    )
    await expect(cell.call((hdk) => hdk.delete_link(missing))).rejects.toThrow(RecordNotFoundError)
    // The agent key entry is not an app entry: it cannot be updated.
    const genesisCreate = await cell.call((hdk) => hdk.get(retypeHash(cell.agentPubKey, 'entry')))
    await expect(
      cell.call((hdk) => hdk.update_entry(genesisCreate!.signed_action.hashed.hash, { text: 'x' })),
    ).rejects.toThrow(/did not write an app entry/)
    store.close()
  })

  it('reports agent info with the chain head', async () => {
    const { cell, store } = await openNotesCell(await tempDir())
    const info = await cell.call((hdk) => hdk.agent_info())
    expect(info.agent_initial_pubkey).toEqual(cell.agentPubKey)
    expect(info.chain_head).toEqual({
      action: cell.chain.head.hash,
      sequence: 3,
      timestamp: cell.chain.head.timestamp,
    })
    store.close()
  })
})
