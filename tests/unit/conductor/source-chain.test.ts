import { join } from 'node:path'
import { type Action, ActionType } from '@holochain/client'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { decodeAction } from '../../../host/conductor/embedded/action.ts'
import { ChainIntegrityError } from '../../../host/conductor/embedded/errors.ts'
import { encodeCanonical } from '../../../host/identity/canonical.ts'
import { hashContent, hashesEqual } from '../../../host/identity/hash.ts'
import { verifyAgentSignature } from '../../../host/identity/keystore.ts'
import { openNotesCell, tempDir } from './fixtures/test-cell.ts'

async function cellWithNotes(count: number) {
  const dataDir = await tempDir()
  const t = await openNotesCell(dataDir)
  const hashes = await t.cell.call((hdk) =>
    Array.from({ length: count }, (_, i) => hdk.create_entry('Note', { text: `note ${i}` })),
  )
  t.store.close()
  return { dataDir, hashes }
}

/** Runs raw SQL on a closed cell's database, as an attacker with disk access would. */
function tamper(dataDir: string, sql: string, ...params: unknown[]): void {
  const db = new Database(join(dataDir, 'conductor.sqlite'))
  const changes = db.prepare(sql).run(...params).changes
  db.close()
  expect(changes).toBeGreaterThan(0)
}

describe('source chain', () => {
  it('writes genesis on first open, then hash-linked signed appends', async () => {
    const { cell, store } = await openNotesCell(await tempDir())
    await cell.call((hdk) => {
      hdk.create_entry('Note', { text: 'one' })
      hdk.create_entry('Note', { text: 'two' })
    })
    const rows = [...store.chainActions(cell.dnaHash, cell.agentPubKey)]
    expect(rows.map((r) => r.type)).toEqual([
      ActionType.Dna,
      ActionType.AgentValidationPkg,
      ActionType.Create,
      ActionType.InitZomesComplete,
      ActionType.Create,
      ActionType.Create,
    ])
    let prev: { hash: Uint8Array; timestamp: number } | null = null
    for (const [seq, row] of rows.entries()) {
      const action: Action = decodeAction(row.bytes)
      expect(row.seq).toBe(seq)
      expect(hashesEqual(hashContent(encodeCanonical(action), 'action'), row.hash)).toBe(true)
      expect(verifyAgentSignature(cell.agentPubKey, row.bytes, row.signature)).toBe(true)
      if (action.type === ActionType.Dna) {
        expect(action.hash).toEqual(cell.dnaHash)
      } else {
        expect(action.action_seq).toBe(seq)
        expect(action.prev_action).toEqual(prev!.hash)
        expect(action.timestamp).toBeGreaterThan(prev!.timestamp)
      }
      prev = { hash: row.hash, timestamp: action.timestamp }
    }
    expect(cell.chain.head.seq).toBe(5)
    store.close()
  })

  it('decodes a stored action once: every reader of its row shares one frozen content', async () => {
    const { cell, store } = await openNotesCell(await tempDir())
    const hash = await cell.call((hdk) => hdk.create_entry('Note', { text: 'one' }))
    const row = store.getAction(hash)!
    const action = decodeAction(row.bytes)
    expect(decodeAction(store.getAction(hash)!.bytes)).toBe(action)
    expect(Object.isFrozen(action)).toBe(true)
    if (action.type !== ActionType.Create) throw new Error('not a Create')
    expect(Object.isFrozen(action.entry_type)).toBe(true)
    // Other bytes of the same action are decoded afresh.
    expect(decodeAction(Uint8Array.from(row.bytes))).not.toBe(action)
    expect(decodeAction(Uint8Array.from(row.bytes))).toEqual(action)
    store.close()
  })

  it('continues the same chain after a restart', async () => {
    const dataDir = await tempDir()
    const first = await openNotesCell(dataDir)
    await first.cell.call((hdk) => hdk.create_entry('Note', { text: 'before' }))
    const head = first.cell.chain.head
    first.store.close()

    const second = await openNotesCell(dataDir)
    expect(second.cell.agentPubKey).toEqual(first.cell.agentPubKey)
    expect(second.cell.chain.head).toEqual(head)
    const next = await second.cell.call((hdk) => hdk.create_entry('Note', { text: 'after' }))
    const record = await second.cell.call((hdk) => hdk.get(next))
    const action = record!.signed_action.hashed.content
    expect(action.type === ActionType.Create && action.action_seq).toBe(head.seq + 1)
    expect(action.type === ActionType.Create && action.prev_action).toEqual(head.hash)
    second.store.close()
  })

  it('gives different DNA hashes to networks with different seeds', async () => {
    const a = await openNotesCell(await tempDir())
    const b = await openNotesCell(await tempDir(), {
      modifiers: {
        networkName: 'test',
        networkSeed: 'seed-2',
        properties: { flavour: 'test' },
        rulesSha256: 'test-rules',
      },
    })
    expect(a.cell.dnaHash).not.toEqual(b.cell.dnaHash)
    a.store.close()
    b.store.close()
  })

  // The checkpoint sits at the head after every commit: each case edits verified history before it.
  describe('refuses a tampered chain at open (history before the checkpoint)', () => {
    const cases: Array<[string, (dataDir: string, hashes: Uint8Array[]) => void, RegExp]> = [
      [
        'edited action bytes',
        (dir) => tamper(dir, "UPDATE actions SET bytes = CAST(bytes || x'00' AS BLOB) WHERE seq = 5"),
        /seq 5 .*action bytes do not match its hash/,
      ],
      [
        'edited entry',
        (dir, hashes) =>
          tamper(
            dir,
            'UPDATE entries SET bytes = ? WHERE hash = (SELECT entry_hash FROM actions WHERE hash = ?)',
            Buffer.from(encodeCanonical({ text: 'forged' })),
            Buffer.from(hashes[1]!),
          ),
        /seq 5 .*its entry does not match the entry hash/,
      ],
      [
        'forged signature',
        (dir) => tamper(dir, 'UPDATE actions SET signature = zeroblob(64) WHERE seq = 4'),
        /seq 4 .*signature does not verify/,
      ],
      [
        'deleted middle action',
        (dir) => tamper(dir, 'DELETE FROM actions WHERE seq = 5'),
        /seq 5: action missing \(next stored action has seq 6\)/,
      ],
      [
        'cut-off tail',
        (dir) => tamper(dir, 'DELETE FROM actions WHERE seq = 7'),
        /recorded head \(seq 7\) is not the last stored action/,
      ],
      [
        'edited index column',
        (dir) => tamper(dir, 'UPDATE actions SET entry_hash = NULL WHERE seq = 4'),
        /seq 4 .*stored entry hash differs/,
      ],
      [
        'edited link index',
        (dir) => tamper(dir, "UPDATE links SET tag = x'6f7468657273'"),
        /link index row is missing or differs/,
      ],
    ]

    it.each(cases)('%s', async (_name, edit, message) => {
      const { dataDir, hashes } = await cellWithNotes(3)
      const t = await openNotesCell(dataDir)
      await t.cell.call((hdk) => hdk.create_link(hashes[0]!, hashes[1]!, 'Tagged', new Uint8Array([1])))
      expect(t.store.chainCheckpoint(t.cell.dnaHash, t.cell.agentPubKey)?.seq).toBe(t.cell.chain.head.seq)
      t.store.close()
      edit(dataDir, hashes)
      const reopened = openNotesCell(dataDir)
      await expect(reopened).rejects.toThrow(ChainIntegrityError)
      await expect(openNotesCell(dataDir)).rejects.toThrow(message)
    })
  })
})
