/**
 * A store file with a damaged page: SQLite finds the damage only when a query reads that page, at
 * start (chain verification) or later. Either way the error names the file and says what to do,
 * not a bare "database disk image is malformed".
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openSqliteChainStore } from '../../../host/storage/sqlite-chain-store.ts'
import { CorruptStoreError } from '../../../host/storage/store-damage.ts'
import { damageTableRoot } from '../../fixtures/damaged-store.ts'
import { openNotesCell, tempDir } from '../conductor/fixtures/test-cell.ts'

/** A closed notes cell with enough notes that the actions table spans several pages. */
async function storeWithNotes() {
  const dataDir = await tempDir()
  const t = await openNotesCell(dataDir)
  await t.cell.call((hdk) => {
    for (let i = 0; i < 100; i++) hdk.create_entry('Note', { text: `note ${i} ${'x'.repeat(80)}` })
  })
  const ids = { dnaHash: t.cell.dnaHash, agent: t.cell.agentPubKey, head: t.cell.chain.head }
  t.store.close()
  return { dataDir, path: join(dataDir, 'conductor.sqlite'), ids }
}

const namesTheFile = (path: string) =>
  new RegExp(
    `^the store ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a readable SQLite database \\(.*malformed.*\\); restore it from a backup, or move it aside`,
  )

describe('a store with a damaged page', () => {
  it('stops the start with an error naming the file and what to do', async () => {
    const { dataDir, path } = await storeWithNotes()
    await damageTableRoot(path, 'actions')
    const opening = openNotesCell(dataDir)
    await expect(opening).rejects.toThrow(CorruptStoreError)
    await expect(opening).rejects.toThrow(namesTheFile(path))
  })

  it('names the file when a later read meets the damage, by lookup or while iterating', async () => {
    const { path, ids } = await storeWithNotes()
    await damageTableRoot(path, 'actions')
    const store = openSqliteChainStore(path)
    try {
      expect(() => store.getAction(ids.head.hash)).toThrow(namesTheFile(path))
      expect(() => [...store.chainDigestBlobs(ids.dnaHash, ids.agent, ids.head.seq)]).toThrow(
        namesTheFile(path),
      )
      // What reads no damaged page still works.
      expect(store.chainHead(ids.dnaHash, ids.agent)).toEqual({ hash: ids.head.hash, seq: ids.head.seq })
    } finally {
      store.close()
    }
  })
})
