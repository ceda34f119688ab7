/**
 * The SQLite chain store's tables and the statements it runs on them, prepared once per database.
 * Link queries come in several shapes (by type, by tag prefix, with deleted links or not): their SQL
 * is built per query and prepared once per shape by the store.
 */
import type Database from 'better-sqlite3'
import type { LinkQuery } from './chain-store.ts'
import { type ActionRow, buf, type LinkRow, type WarrantRow } from './sqlite-rows.ts'

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS actions (
  hash BLOB PRIMARY KEY,
  dna_hash BLOB NOT NULL,
  author BLOB NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  entry_hash BLOB,
  target_action BLOB,
  bytes BLOB NOT NULL,
  signature BLOB NOT NULL,
  held INTEGER NOT NULL DEFAULT 0,
  UNIQUE (dna_hash, author, seq)
);
CREATE INDEX IF NOT EXISTS actions_by_entry ON actions (dna_hash, entry_hash);
CREATE INDEX IF NOT EXISTS actions_by_target ON actions (target_action);
CREATE TABLE IF NOT EXISTS entries (
  hash BLOB PRIMARY KEY,
  kind TEXT NOT NULL,
  bytes BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS links (
  create_hash BLOB PRIMARY KEY,
  dna_hash BLOB NOT NULL,
  base BLOB NOT NULL,
  target BLOB NOT NULL,
  zome_index INTEGER NOT NULL,
  link_type INTEGER NOT NULL,
  tag BLOB NOT NULL,
  author BLOB NOT NULL,
  timestamp INTEGER NOT NULL,
  deleted_by BLOB
);
CREATE INDEX IF NOT EXISTS links_by_base ON links (dna_hash, base, link_type);
-- Live links only: an anchor's deleted links (every finished task's open link) are never walked to
-- find the live ones, so reading them does not grow with history.
CREATE INDEX IF NOT EXISTS live_links_by_base ON links (dna_hash, base, link_type, tag) WHERE deleted_by IS NULL;
CREATE TABLE IF NOT EXISTS chain_heads (
  dna_hash BLOB NOT NULL,
  author BLOB NOT NULL,
  hash BLOB NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (dna_hash, author)
);
CREATE TABLE IF NOT EXISTS warrants (
  id INTEGER PRIMARY KEY,
  author BLOB NOT NULL,
  dna_hash BLOB NOT NULL,
  rule TEXT NOT NULL,
  reason TEXT NOT NULL,
  action_hash BLOB,
  reported_by BLOB NOT NULL,
  timestamp INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS warrants_by_author ON warrants (author);
CREATE TABLE IF NOT EXISTS chain_checkpoints (
  dna_hash BLOB NOT NULL,
  author BLOB NOT NULL,
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL,
  timestamp INTEGER NOT NULL,
  digest BLOB NOT NULL,
  mac BLOB NOT NULL,
  PRIMARY KEY (dna_hash, author)
);
-- A chain's entries by type and key (a task payload by its hash, a window's leaves by request): a
-- look-up reads this index, never the chain. Derived from the chain and written with it; a chain whose
-- entry_key_chains version differs from the key rules' (a store from before the index) is re-indexed.
CREATE TABLE IF NOT EXISTS entry_keys (
  dna_hash BLOB NOT NULL,
  author BLOB NOT NULL,
  entry_type TEXT NOT NULL,
  key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  action_hash BLOB NOT NULL,
  PRIMARY KEY (dna_hash, author, entry_type, key, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entry_key_chains (
  dna_hash BLOB NOT NULL,
  author BLOB NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (dna_hash, author)
);
-- The chain head a chain's entry-key index covers, moved on by each append in the same transaction. A
-- release without it (0.1.0) appends without moving it: at the next open the chain's head differs and
-- what was appended since is indexed, so the index never answers from a chain that moved on without it.
CREATE TABLE IF NOT EXISTS entry_key_heads (
  dna_hash BLOB NOT NULL,
  author BLOB NOT NULL,
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (dna_hash, author)
);
`

/**
 * Brings a store made by an earlier release up to SCHEMA: `actions.held` (issue 57) came after 0.2.0's
 * first stores, whose rows are all chain rows (0). Then what depends on it.
 */
export function migrate(db: Database.Database): void {
  const columns = db.prepare<[], { name: string }>('PRAGMA table_info(actions)').all()
  if (!columns.some((column) => column.name === 'held'))
    db.exec('ALTER TABLE actions ADD COLUMN held INTEGER NOT NULL DEFAULT 0')
  // Held ops are few beside the chains on most peers and listed by DNA (anti-entropy summaries).
  db.exec('CREATE INDEX IF NOT EXISTS held_actions ON actions (dna_hash, timestamp) WHERE held = 1')
}

/** `<byte length>:<value>` of one column in SQL (NULL for NULL): a number as its decimal text. */
const part = (column: string) => `length(CAST(${column} AS BLOB)) || ':' || ${column}`

/** Every fixed statement of the store. */
export function prepareStatements(db: Database.Database) {
  return {
    insertAction: db.prepare(
      `INSERT INTO actions (hash, dna_hash, author, seq, type, timestamp, entry_hash, target_action, bytes, signature, held)
       VALUES (@hash, @dna_hash, @author, @seq, @type, @timestamp, @entry_hash, @target_action, @bytes, @signature, @held)`,
    ),
    promote: db.prepare('UPDATE actions SET held = 0 WHERE hash = ? AND held = 1'),
    dropHeld: db.prepare('DELETE FROM actions WHERE hash = ? AND held = 1'),
    dropLink: db.prepare('DELETE FROM links WHERE create_hash = ?'),
    undeleteLink: db.prepare('UPDATE links SET deleted_by = NULL WHERE deleted_by = ?'),
    actionAt: db.prepare<[Buffer, Buffer, number], ActionRow>(
      'SELECT * FROM actions WHERE dna_hash = ? AND author = ? AND seq = ?',
    ),
    held: db.prepare<[Buffer], ActionRow>(
      'SELECT * FROM actions WHERE dna_hash = ? AND held = 1 ORDER BY timestamp, hash',
    ),
    insertEntry: db.prepare('INSERT OR IGNORE INTO entries (hash, kind, bytes) VALUES (?, ?, ?)'),
    insertLink: db.prepare(
      `INSERT INTO links (create_hash, dna_hash, base, target, zome_index, link_type, tag, author, timestamp)
       VALUES (@create_hash, @dna_hash, @base, @target, @zome_index, @link_type, @tag, @author, @timestamp)`,
    ),
    deleteLink: db.prepare('UPDATE links SET deleted_by = ? WHERE create_hash = ? AND deleted_by IS NULL'),
    head: db.prepare<[Buffer, Buffer], { hash: Buffer; seq: number }>(
      'SELECT hash, seq FROM chain_heads WHERE dna_hash = ? AND author = ?',
    ),
    setHead: db.prepare(
      `INSERT INTO chain_heads (dna_hash, author, hash, seq) VALUES (?, ?, ?, ?)
       ON CONFLICT (dna_hash, author) DO UPDATE SET hash = excluded.hash, seq = excluded.seq`,
    ),
    chain: db.prepare<[Buffer, Buffer, number], ActionRow>(
      'SELECT * FROM actions WHERE dna_hash = ? AND author = ? AND seq >= ? AND held = 0 ORDER BY seq',
    ),
    // One blob per row, concatenated by SQLite (a JS callback per column would cost more than the
    // rest); every part length-prefixed (a null one '-'), so bytes cannot move from one part to the
    // next unnoticed. Every column of the chain's rows is in it, the indexed ones the action hash does
    // not cover included: an edit to any of them sends the open back to whole-chain verification,
    // which names it. (The rows' dna_hash and author select them; a link's deleted_by is later state,
    // set by whichever agent deletes it.) ChainDigest in the conductor writes the same.
    digestBlobs: db
      .prepare<[Buffer, Buffer, number], Buffer>(
        `SELECT CAST(
           ${part('a.hash')} || ${part('a.signature')} || ${part('a.bytes')} || ${part('a.seq')} ||
           ${part('a.type')} || ${part('a.timestamp')} ||
           ifnull(${part('a.entry_hash')}, '-') || ifnull(${part('a.target_action')}, '-') ||
           ifnull(${part('e.kind')} || ${part('e.bytes')}, '') ||
           ifnull(${part('l.dna_hash')} || ${part('l.base')} || ${part('l.target')} || ${part('l.tag')} ||
             ${part('l.link_type')} || ${part('l.zome_index')} || ${part('l.author')} ||
             ${part('l.timestamp')}, '')
         AS BLOB)
         FROM actions a
         LEFT JOIN entries e ON e.hash = a.entry_hash
         LEFT JOIN links l ON l.create_hash = a.hash
         WHERE a.dna_hash = ? AND a.author = ? AND a.seq <= ? AND a.held = 0 ORDER BY a.seq`,
      )
      .pluck(),
    checkpoint: db.prepare<
      [Buffer, Buffer],
      { seq: number; hash: Buffer; timestamp: number; digest: Buffer; mac: Buffer }
    >('SELECT seq, hash, timestamp, digest, mac FROM chain_checkpoints WHERE dna_hash = ? AND author = ?'),
    setCheckpoint: db.prepare(
      `INSERT INTO chain_checkpoints (dna_hash, author, seq, hash, timestamp, digest, mac)
       VALUES (@dna_hash, @author, @seq, @hash, @timestamp, @digest, @mac)
       ON CONFLICT (dna_hash, author) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,
         timestamp = excluded.timestamp, digest = excluded.digest, mac = excluded.mac`,
    ),
    action: db.prepare<[Buffer], ActionRow>('SELECT * FROM actions WHERE hash = ?'),
    entry: db.prepare<[Buffer], { hash: Buffer; kind: 'App' | 'Agent'; bytes: Buffer }>(
      'SELECT * FROM entries WHERE hash = ?',
    ),
    writingEntry: db.prepare<[Buffer, Buffer], ActionRow>(
      'SELECT * FROM actions WHERE dna_hash = ? AND entry_hash = ? ORDER BY timestamp, hash',
    ),
    targeting: db.prepare<[Buffer], ActionRow>(
      'SELECT * FROM actions WHERE target_action = ? ORDER BY timestamp, hash',
    ),
    link: db.prepare<[Buffer], LinkRow>('SELECT * FROM links WHERE create_hash = ?'),
    writeCount: db.prepare<[], number>('SELECT total_changes()').pluck(),
    heads: db.prepare<[Buffer], { author: Buffer; hash: Buffer; seq: number }>(
      'SELECT author, hash, seq FROM chain_heads WHERE dna_hash = ?',
    ),
    range: db.prepare<[Buffer, Buffer, number, number], ActionRow>(
      'SELECT * FROM actions WHERE dna_hash = ? AND author = ? AND seq >= ? AND held = 0 ORDER BY seq LIMIT ?',
    ),
    insertKey: db.prepare(
      `INSERT OR IGNORE INTO entry_keys (dna_hash, author, entry_type, key, seq, action_hash)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    keyed: db.prepare<[Buffer, Buffer, string, string], ActionRow>(
      `SELECT a.* FROM entry_keys k JOIN actions a ON a.hash = k.action_hash
       WHERE k.dna_hash = ? AND k.author = ? AND k.entry_type = ? AND k.key = ? ORDER BY k.seq DESC LIMIT 1`,
    ),
    keyedRange: db.prepare<[Buffer, Buffer, string, string, string], ActionRow>(
      `SELECT a.* FROM entry_keys k JOIN actions a ON a.hash = k.action_hash
       WHERE k.dna_hash = ? AND k.author = ? AND k.entry_type = ? AND k.key >= ? AND k.key < ? ORDER BY k.seq`,
    ),
    keyIndexVersion: db
      .prepare<[Buffer, Buffer], number>(
        'SELECT version FROM entry_key_chains WHERE dna_hash = ? AND author = ?',
      )
      .pluck(),
    clearKeys: db.prepare('DELETE FROM entry_keys WHERE dna_hash = ? AND author = ?'),
    setKeyIndexVersion: db.prepare(
      `INSERT INTO entry_key_chains (dna_hash, author, version) VALUES (?, ?, ?)
       ON CONFLICT (dna_hash, author) DO UPDATE SET version = excluded.version`,
    ),
    keyIndexHead: db.prepare<[Buffer, Buffer], { hash: Buffer; seq: number }>(
      'SELECT hash, seq FROM entry_key_heads WHERE dna_hash = ? AND author = ?',
    ),
    setKeyIndexHead: db.prepare(
      `INSERT INTO entry_key_heads (dna_hash, author, hash, seq) VALUES (?, ?, ?, ?)
       ON CONFLICT (dna_hash, author) DO UPDATE SET hash = excluded.hash, seq = excluded.seq`,
    ),
    // Only from the head the index covered: an index already behind stays behind, to be caught up at open.
    advanceKeyIndexHead: db.prepare(
      'UPDATE entry_key_heads SET hash = ?, seq = ? WHERE dna_hash = ? AND author = ? AND hash = ?',
    ),
    insertWarrant: db.prepare(
      `INSERT INTO warrants (author, dna_hash, rule, reason, action_hash, reported_by, timestamp)
       VALUES (@author, @dna_hash, @rule, @reason, @action_hash, @reported_by, @timestamp)`,
    ),
    warrants: db.prepare<[], WarrantRow>('SELECT * FROM warrants ORDER BY id'),
    syncNormal: db.prepare('PRAGMA synchronous = NORMAL'),
    syncFull: db.prepare('PRAGMA synchronous = FULL'),
  }
}

export type Statements = ReturnType<typeof prepareStatements>

/** The SELECT for a link query, and its parameters. */
export function linkQuerySql(query: LinkQuery): { sql: string; params: (Buffer | number)[] } {
  const where = ['dna_hash = ?', 'base = ?']
  const params: (Buffer | number)[] = [buf(query.dnaHash), buf(query.base)]
  if (query.linkType !== undefined) {
    where.push('link_type = ?')
    params.push(query.linkType)
  }
  if (query.tagPrefix !== undefined && query.tagPrefix.length > 0) {
    where.push('substr(tag, 1, ?) = ?')
    params.push(query.tagPrefix.length, buf(query.tagPrefix))
  }
  if (!query.includeDeleted) where.push('deleted_by IS NULL')
  return { sql: `SELECT * FROM links WHERE ${where.join(' AND ')} ORDER BY timestamp, create_hash`, params }
}
