/**
 * Start-up verification from a checkpoint: only the actions after it are verified, and tampering is
 * refused on either side of it (history before it changes its digest, which sends the open back to
 * whole-chain verification); a checkpoint that is not the chain owner's is ignored. The digest covers
 * every column of the chain's rows, the indexed ones the action hash does not cover too.
 */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { checkpointKey, signCheckpoint } from '../../../host/conductor/embedded/chain-checkpoint.ts'
import { ChainDigest } from '../../../host/conductor/embedded/chain-digest.ts'
import { ChainIntegrityError } from '../../../host/conductor/embedded/errors.ts'
import { openAgentKey } from '../../../host/identity/keystore.ts'
import { openSqliteChainStore } from '../../../host/storage/sqlite-chain-store.ts'
import { openNotesCell, tempDir } from './fixtures/test-cell.ts'

/** A closed notes cell with `count` notes after genesis (seq 4..3+count); its checkpoint is at the head. */
async function chainWithNotes(dataDir: string, count: number) {
  const t = await openNotesCell(dataDir)
  await t.cell.call((hdk) => {
    for (let i = 0; i < count; i++) hdk.create_entry('Note', { text: `note ${i}` })
  })
  const ids = { dnaHash: t.cell.dnaHash, agent: t.cell.agentPubKey, head: t.cell.chain.head }
  t.store.close()
  return ids
}

/** Runs raw SQL on the closed cell's database, as an attacker with disk access would. */
function sql<T>(dataDir: string, run: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, 'conductor.sqlite'))
  try {
    return run(db)
  } finally {
    db.close()
  }
}

const editActionBytes = (dataDir: string, seq: number) =>
  sql(dataDir, (db) =>
    db.prepare("UPDATE actions SET bytes = CAST(bytes || x'00' AS BLOB) WHERE seq = ?").run(seq),
  )

/** Writes a checkpoint at the head over the (possibly edited) history, MAC'd with `macKey`. */
function writeCheckpoint(
  dataDir: string,
  ids: Awaited<ReturnType<typeof chainWithNotes>>,
  macKey: Uint8Array,
) {
  const store = openSqliteChainStore(join(dataDir, 'conductor.sqlite'))
  try {
    const digest = new ChainDigest()
    for (const blob of store.chainDigestBlobs(ids.dnaHash, ids.agent, ids.head.seq)) digest.update(blob)
    store.setChainCheckpoint(
      ids.dnaHash,
      ids.agent,
      signCheckpoint(macKey, ids.dnaHash, ids.agent, ids.head, digest.value()),
    )
  } finally {
    store.close()
  }
}

describe('chain checkpoint', () => {
  it('verifies what came after an older checkpoint, refuses tampering there, and moves the checkpoint to the head', async () => {
    const dataDir = await tempDir()
    await chainWithNotes(dataDir, 2)
    const older = sql(
      dataDir,
      (db) => db.prepare('SELECT * FROM chain_checkpoints').get() as Record<string, unknown>,
    )
    expect(older.seq).toBe(5)
    const ids = await chainWithNotes(dataDir, 3)
    // Back to the older (genuine) checkpoint: seq 6..8 are new to it.
    const restore = () =>
      sql(dataDir, (db) =>
        db
          .prepare(
            'UPDATE chain_checkpoints SET seq = @seq, hash = @hash, timestamp = @timestamp, digest = @digest, mac = @mac',
          )
          .run(older),
      )
    restore()
    const reopened = await openNotesCell(dataDir)
    expect(reopened.cell.chain.head).toEqual(ids.head)
    expect(reopened.store.chainCheckpoint(ids.dnaHash, ids.agent)?.seq).toBe(8)
    reopened.store.close()

    restore()
    editActionBytes(dataDir, 7)
    await expect(openNotesCell(dataDir)).rejects.toThrow(/seq 7 .*action bytes do not match its hash/)
  })

  it('refuses history edited before the checkpoint, even with the checkpoint digest recomputed, unless the owner signed it', async () => {
    const dataDir = await tempDir()
    const ids = await chainWithNotes(dataDir, 3)
    sql(dataDir, (db) => db.prepare('UPDATE actions SET signature = zeroblob(64) WHERE seq = 4').run())
    // A forger without the agent's key: a digest over the edited history, under another key's MAC.
    const stranger = await openAgentKey(await tempDir())
    writeCheckpoint(dataDir, ids, checkpointKey(stranger))
    await expect(openNotesCell(dataDir)).rejects.toThrow(ChainIntegrityError)
    await expect(openNotesCell(dataDir)).rejects.toThrow(/seq 4 .*signature does not verify/)
    // What the owner's checkpoint vouches for is not verified again: that is what makes start-up fast
    // (and why the MAC key is derived from the agent's secret).
    writeCheckpoint(dataDir, ids, checkpointKey(await openAgentKey(dataDir)))
    const opened = await openNotesCell(dataDir)
    expect(opened.cell.chain.head).toEqual(ids.head)
    opened.store.close()
  })

  it('refuses a chain whose checkpoint was edited to skip a tampered action', async () => {
    const dataDir = await tempDir()
    const ids = await chainWithNotes(dataDir, 3)
    editActionBytes(dataDir, 6)
    // Claims the whole chain verified, up to the head, with a made-up digest and MAC.
    sql(dataDir, (db) =>
      db.prepare('UPDATE chain_checkpoints SET digest = zeroblob(32), mac = zeroblob(32)').run(),
    )
    await expect(openNotesCell(dataDir)).rejects.toThrow(/seq 6 .*action bytes do not match its hash/)
    expect(ids.head.seq).toBe(6)
  })
})

/** A closed notes cell whose history has every kind of row: entries, an update, a link and its deletion. */
async function chainWithEveryRow(dataDir: string) {
  const t = await openNotesCell(dataDir)
  await t.cell.call((hdk) => {
    const a = hdk.create_entry('Note', { text: 'a' })
    const b = hdk.create_entry('Note', { text: 'b' })
    const link = hdk.create_link(a, b, 'NoteToReply')
    hdk.update_entry(a, { text: 'a2' })
    hdk.delete_link(link)
  })
  t.store.close()
}

// Own-chain actions by type (seq 4 is the first note, after genesis).
const ofType = (type: string) =>
  `(SELECT hash FROM actions WHERE type = '${type}' AND seq > 3 ORDER BY seq LIMIT 1)`

describe('chain checkpoint covers every column the action hash does not', () => {
  it.each([
    [
      'actions.timestamp',
      'UPDATE actions SET timestamp = timestamp + 1 WHERE seq = 4',
      /seq 4 .*stored timestamp differs/,
    ],
    [
      'actions.type',
      "UPDATE actions SET type = 'Update' WHERE seq = 4",
      /seq 4 .*stored type Update differs/,
    ],
    ['actions.seq', 'UPDATE actions SET seq = 4.5 WHERE seq = 4', /seq 4: action missing/],
    [
      'actions.entry_hash',
      `UPDATE actions SET entry_hash = (SELECT entry_hash FROM actions WHERE seq = 5) WHERE seq = 4`,
      /seq 4 .*stored entry hash differs/,
    ],
    [
      'actions.target_action',
      `UPDATE actions SET target_action = ${ofType('Create')} WHERE hash = ${ofType('DeleteLink')}`,
      /seq 8 .*stored target differs/,
    ],
    [
      'entries.kind',
      `UPDATE entries SET kind = 'Agent' WHERE hash = (SELECT entry_hash FROM actions WHERE seq = 4)`,
      /seq 4 .*entry does not match/,
    ],
    ['links.author', 'UPDATE links SET author = zeroblob(39)', /seq 6 .*link index row .*differs/],
    ['links.timestamp', 'UPDATE links SET timestamp = timestamp + 1', /seq 6 .*link index row .*differs/],
    [
      'links.dna_hash',
      'UPDATE links SET dna_hash = zeroblob(39)',
      /seq 6 .*link index row is in another DNA/,
    ],
  ])('an edit to %s before the checkpoint is refused at open, naming it', async (_column, edit, refusal) => {
    const dataDir = await tempDir()
    await chainWithEveryRow(dataDir)
    expect(sql(dataDir, (db) => db.prepare('SELECT seq FROM chain_checkpoints').pluck().get())).toBe(8)
    expect(sql(dataDir, (db) => db.prepare(edit).run().changes)).toBe(1)
    await expect(openNotesCell(dataDir)).rejects.toThrow(refusal)
  })

  it('an untouched chain opens from its checkpoint', async () => {
    const dataDir = await tempDir()
    await chainWithEveryRow(dataDir)
    const opened = await openNotesCell(dataDir)
    expect(opened.cell.chain.head.seq).toBe(8)
    opened.store.close()
  })
})
