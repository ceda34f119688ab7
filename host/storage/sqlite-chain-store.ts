/**
 * ChainStore on SQLite (better-sqlite3).
 *
 * WAL with synchronous=NORMAL, and group commit: a commit is in the WAL file when its transaction
 * returns (it survives the process being killed), and `flush()` syncs the WAL to disk, one sync for
 * every commit made before it started, on libuv's thread pool rather than the event loop. A commit of
 * this agent's chain is acknowledged and handed to peers only after a flush: lost in a power cut before
 * it, it was never seen, so re-signing that seq differently forks nothing. A durable transaction
 * (genesis) is synced before it returns (synchronous=FULL for that one commit).
 */
import { closeSync, fdatasync, openSync } from 'node:fs'
import Database from 'better-sqlite3'
import {
  type AuthorHead,
  type ChainCheckpoint,
  type ChainHead,
  ChainHeadMovedError,
  type ChainStore,
  type CommitItem,
  type LinkQuery,
  type StoredAction,
  type StoredEntry,
  type StoredLink,
  type Warrant,
} from './chain-store.ts'
import { ensurePrivateFileSync, tightenIfPresentSync } from './private-files.ts'

const SCHEMA = `
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
`

interface ActionRow {
  hash: Buffer
  dna_hash: Buffer
  author: Buffer
  seq: number
  type: string
  timestamp: number
  entry_hash: Buffer | null
  target_action: Buffer | null
  bytes: Buffer
  signature: Buffer
}

interface WarrantRow {
  author: Buffer
  dna_hash: Buffer
  rule: string
  reason: string
  action_hash: Buffer | null
  reported_by: Buffer
  timestamp: number
}

interface LinkRow {
  create_hash: Buffer
  dna_hash: Buffer
  base: Buffer
  target: Buffer
  zome_index: number
  link_type: number
  tag: Buffer
  author: Buffer
  timestamp: number
  deleted_by: Buffer | null
}

/** Thrown when the store's file is not a SQLite database, or a damaged one. */
export class CorruptStoreError extends Error {
  static override readonly name = 'CorruptStoreError'
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(
      `the store ${path} is not a readable SQLite database (${(cause as Error).message}); ` +
        'restore it from a backup, or move it aside to start this peer afresh',
      { cause },
    )
    this.name = 'CorruptStoreError'
  }
}

// SQLite's answers for a file that is not a database or is damaged.
const CORRUPT_CODES = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT'])

/**
 * Opens (creating if needed) the store at `path`, its files 0600; ':memory:' works for tests.
 * Throws CorruptStoreError for a file that is not a sound SQLite database.
 */
export function openSqliteChainStore(path: string): ChainStore {
  return new SqliteChainStore(path)
}

class SqliteChainStore implements ChainStore {
  readonly #db: Database.Database
  readonly #stmts
  /** One prepared statement per shape of link query (at most eight). */
  readonly #linkQueries = new Map<string, Database.Statement<unknown[], LinkRow>>()
  /** The WAL file, synced by `flush` (null in memory). */
  readonly #walPath: string | null
  #walFd: number | null = null
  /** The sync under way, and the one queued behind it for commits made since it started. */
  #syncing: Promise<void> = Promise.resolve()
  #queued: Promise<void> | null = null
  /**
   * Actions and entries read lately, by hash. Both are immutable once stored, and the same few are
   * read over and over (a task's records by every visit, rules' dependencies, chain heads); emptied
   * when a transaction rolls back, since a row read or written inside it may be gone.
   */
  readonly #actions = new RecentRows<StoredAction>(RECENT_ROWS)
  readonly #entries = new RecentRows<StoredEntry>(RECENT_ROWS)

  constructor(path: string) {
    this.#walPath = path === ':memory:' ? null : `${path}-wal`
    if (path !== ':memory:') {
      // SQLite gives its -wal and -shm files the database file's mode.
      ensurePrivateFileSync(path)
      tightenIfPresentSync([`${path}-wal`, `${path}-shm`])
    }
    const db = new Database(path)
    try {
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      // A checkpoint runs inside the commit that crosses the limit, on the event loop. Every 4,000
      // pages (WAL up to ~16 MB) instead of SQLite's 1,000, the index pages a burst rewrites again and
      // again are copied back once, not four times: a burst of tasks runs ~12% faster.
      db.pragma('wal_autocheckpoint = 4000')
      db.exec(SCHEMA)
    } catch (err) {
      db.close()
      if (CORRUPT_CODES.has((err as { code?: string }).code ?? '')) throw new CorruptStoreError(path, err)
      throw err
    }
    this.#db = db
    this.#stmts = {
      insertAction: db.prepare(
        `INSERT INTO actions (hash, dna_hash, author, seq, type, timestamp, entry_hash, target_action, bytes, signature)
         VALUES (@hash, @dna_hash, @author, @seq, @type, @timestamp, @entry_hash, @target_action, @bytes, @signature)`,
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
        'SELECT * FROM actions WHERE dna_hash = ? AND author = ? AND seq >= ? ORDER BY seq',
      ),
      // One blob per row, concatenated by SQLite (a JS callback per column would cost more than the
      // rest); every part length-prefixed, so bytes cannot move from one part to the next unnoticed.
      digestBlobs: db
        .prepare<[Buffer, Buffer, number], Buffer>(
          `SELECT CAST(
             length(a.hash) || ':' || a.hash || length(a.signature) || ':' || a.signature ||
             length(a.bytes) || ':' || a.bytes ||
             ifnull(length(e.bytes) || ':' || e.bytes, '') ||
             ifnull(length(l.base) || ':' || l.base || length(l.target) || ':' || l.target ||
               length(l.tag) || ':' || l.tag || l.link_type || ':' || l.zome_index || ':', '')
           AS BLOB)
           FROM actions a
           LEFT JOIN entries e ON e.hash = a.entry_hash
           LEFT JOIN links l ON l.create_hash = a.hash
           WHERE a.dna_hash = ? AND a.author = ? AND a.seq <= ? ORDER BY a.seq`,
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
      heads: db.prepare<[Buffer], { author: Buffer; hash: Buffer; seq: number }>(
        'SELECT author, hash, seq FROM chain_heads WHERE dna_hash = ?',
      ),
      range: db.prepare<[Buffer, Buffer, number, number], ActionRow>(
        'SELECT * FROM actions WHERE dna_hash = ? AND author = ? AND seq >= ? ORDER BY seq LIMIT ?',
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

  appendToChain(
    dnaHash: Uint8Array,
    author: Uint8Array,
    expectedHead: Uint8Array | null,
    items: CommitItem[],
  ): void {
    const dna = buf(dnaHash)
    const agent = buf(author)
    const s = this.#stmts
    const append = () => {
      const head = s.head.get(dna, agent)
      const headMatches =
        expectedHead === null ? head === undefined : head?.hash.equals(expectedHead) === true
      if (!headMatches) throw new ChainHeadMovedError()
      for (const { action, entry, link, deletesLink } of items) {
        s.insertAction.run({
          hash: buf(action.hash),
          dna_hash: buf(action.dnaHash),
          author: buf(action.author),
          seq: action.seq,
          type: action.type,
          timestamp: action.timestamp,
          entry_hash: nullableBuf(action.entryHash),
          target_action: nullableBuf(action.targetAction),
          bytes: buf(action.bytes),
          signature: buf(action.signature),
        })
        if (entry) s.insertEntry.run(buf(entry.hash), entry.kind, buf(entry.bytes))
        if (link) {
          s.insertLink.run({
            create_hash: buf(link.createHash),
            dna_hash: buf(link.dnaHash),
            base: buf(link.base),
            target: buf(link.target),
            zome_index: link.zomeIndex,
            link_type: link.linkType,
            tag: buf(link.tag),
            author: buf(link.author),
            timestamp: link.timestamp,
          })
        }
        if (deletesLink) s.deleteLink.run(buf(action.hash), buf(deletesLink))
      }
      const last = items.at(-1)
      if (last) s.setHead.run(dna, agent, buf(last.action.hash), last.action.seq)
      // What was just written is what is read next (the chain's head, the dependencies of what follows).
      for (const { action, entry } of items) {
        this.#actions.keep(rowKey(action.hash), action)
        if (entry) this.#entries.keep(rowKey(entry.hash), entry)
      }
    }
    // Inside a caller's transaction (a batch of received ops, a commit) a throw rolls that back whole;
    // a savepoint per append would only add its cost.
    if (this.#db.inTransaction) append()
    else this.#inTransaction(append)
  }

  /** Runs `fn` in a transaction (a savepoint inside another); a rollback forgets the recent rows. */
  #inTransaction<T>(fn: () => T): T {
    try {
      return this.#db.transaction(fn)()
    } catch (err) {
      this.#actions.clear()
      this.#entries.clear()
      throw err
    }
  }

  chainHead(dnaHash: Uint8Array, author: Uint8Array): ChainHead | null {
    const row = this.#stmts.head.get(buf(dnaHash), buf(author))
    return row ? { hash: bytes(row.hash), seq: row.seq } : null
  }

  *chainActions(dnaHash: Uint8Array, author: Uint8Array, fromSeq = 0): Iterable<StoredAction> {
    for (const row of this.#stmts.chain.iterate(buf(dnaHash), buf(author), fromSeq)) yield toAction(row)
  }

  chainDigestBlobs(dnaHash: Uint8Array, author: Uint8Array, toSeq: number): Iterable<Uint8Array> {
    return this.#stmts.digestBlobs.iterate(buf(dnaHash), buf(author), toSeq)
  }

  chainCheckpoint(dnaHash: Uint8Array, author: Uint8Array): ChainCheckpoint | null {
    const row = this.#stmts.checkpoint.get(buf(dnaHash), buf(author))
    if (!row) return null
    const { seq, timestamp } = row
    return { seq, timestamp, hash: bytes(row.hash), digest: bytes(row.digest), mac: bytes(row.mac) }
  }

  setChainCheckpoint(dnaHash: Uint8Array, author: Uint8Array, checkpoint: ChainCheckpoint): void {
    this.#stmts.setCheckpoint.run({
      dna_hash: buf(dnaHash),
      author: buf(author),
      seq: checkpoint.seq,
      hash: buf(checkpoint.hash),
      timestamp: checkpoint.timestamp,
      digest: buf(checkpoint.digest),
      mac: buf(checkpoint.mac),
    })
  }

  chainHeads(dnaHash: Uint8Array): AuthorHead[] {
    return this.#stmts.heads
      .all(buf(dnaHash))
      .map((row) => ({ author: bytes(row.author), hash: bytes(row.hash), seq: row.seq }))
  }

  chainRange(dnaHash: Uint8Array, author: Uint8Array, fromSeq: number, limit: number): StoredAction[] {
    return this.#stmts.range.all(buf(dnaHash), buf(author), fromSeq, limit).map(toAction)
  }

  transaction<T>(fn: () => T, options: { durable?: boolean } = {}): T {
    if (options.durable !== true || this.#db.inTransaction) return this.#inTransaction(fn)
    this.#stmts.syncFull.run()
    try {
      return this.#inTransaction(fn)
    } finally {
      this.#stmts.syncNormal.run()
    }
  }

  flush(): Promise<void> {
    if (this.#walPath === null) return Promise.resolve()
    // A sync already queued starts after every commit made so far: it serves this caller too.
    this.#queued ??= this.#syncing
      .catch(() => {})
      .then(() => {
        this.#queued = null
        this.#syncing = this.#syncWal()
        return this.#syncing
      })
    return this.#queued
  }

  #syncWal(): Promise<void> {
    if (!this.#db.open) return Promise.resolve()
    // Opened once the WAL exists (after the first commit); SQLite keeps the same file from then on.
    this.#walFd ??= openSync(this.#walPath!, 'r')
    const fd = this.#walFd
    // Closed meanwhile: closing checkpointed the WAL into the database and synced it.
    return new Promise((resolve, reject) =>
      fdatasync(fd, (err) => (err && this.#db.open ? reject(err) : resolve())),
    )
  }

  addWarrant(warrant: Warrant): void {
    this.#stmts.insertWarrant.run({
      author: buf(warrant.author),
      dna_hash: buf(warrant.dnaHash),
      rule: warrant.rule,
      reason: warrant.reason,
      action_hash: nullableBuf(warrant.actionHash),
      reported_by: buf(warrant.reportedBy),
      timestamp: warrant.timestamp,
    })
  }

  listWarrants(): Warrant[] {
    return this.#stmts.warrants.all().map((row) => ({
      author: bytes(row.author),
      dnaHash: bytes(row.dna_hash),
      rule: row.rule,
      reason: row.reason,
      actionHash: row.action_hash && bytes(row.action_hash),
      reportedBy: bytes(row.reported_by),
      timestamp: row.timestamp,
    }))
  }

  getAction(hash: Uint8Array): StoredAction | null {
    const key = rowKey(hash)
    const recent = this.#actions.get(key)
    if (recent !== undefined) return recent
    const row = this.#stmts.action.get(buf(hash))
    return row ? this.#actions.keep(key, toAction(row)) : null
  }

  getEntry(hash: Uint8Array): StoredEntry | null {
    const key = rowKey(hash)
    const recent = this.#entries.get(key)
    if (recent !== undefined) return recent
    const row = this.#stmts.entry.get(buf(hash))
    return row
      ? this.#entries.keep(key, { hash: bytes(row.hash), kind: row.kind, bytes: bytes(row.bytes) })
      : null
  }

  actionsWritingEntry(dnaHash: Uint8Array, entryHash: Uint8Array): StoredAction[] {
    return this.#stmts.writingEntry.all(buf(dnaHash), buf(entryHash)).map(toAction)
  }

  actionsTargeting(actionHash: Uint8Array): StoredAction[] {
    return this.#stmts.targeting.all(buf(actionHash)).map(toAction)
  }

  getLink(createHash: Uint8Array): StoredLink | null {
    const row = this.#stmts.link.get(buf(createHash))
    return row ? toLink(row) : null
  }

  getLinks(query: LinkQuery): StoredLink[] {
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
    const sql = `SELECT * FROM links WHERE ${where.join(' AND ')} ORDER BY timestamp, create_hash`
    let stmt = this.#linkQueries.get(sql)
    if (stmt === undefined) {
      stmt = this.#db.prepare<unknown[], LinkRow>(sql)
      this.#linkQueries.set(sql, stmt)
    }
    return stmt.all(...params).map(toLink)
  }

  close(): void {
    // Closing checkpoints the WAL into the database and syncs it.
    if (this.#db.open) this.#db.close()
    if (this.#walFd !== null) closeSync(this.#walFd)
    this.#walFd = null
  }
}

function buf(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength)
}

function nullableBuf(u8: Uint8Array | null): Buffer | null {
  return u8 === null ? null : buf(u8)
}

/** Plain Uint8Array copies: callers compare and msgpack-encode them, where Buffer would differ. */
function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b)
}

function toAction(row: ActionRow): StoredAction {
  return {
    hash: bytes(row.hash),
    dnaHash: bytes(row.dna_hash),
    author: bytes(row.author),
    seq: row.seq,
    type: row.type,
    timestamp: row.timestamp,
    entryHash: row.entry_hash && bytes(row.entry_hash),
    targetAction: row.target_action && bytes(row.target_action),
    bytes: bytes(row.bytes),
    signature: bytes(row.signature),
  }
}

function toLink(row: LinkRow): StoredLink {
  return {
    createHash: bytes(row.create_hash),
    dnaHash: bytes(row.dna_hash),
    base: bytes(row.base),
    target: bytes(row.target),
    zomeIndex: row.zome_index,
    linkType: row.link_type,
    tag: bytes(row.tag),
    author: bytes(row.author),
    timestamp: row.timestamp,
    deletedBy: row.deleted_by && bytes(row.deleted_by),
  }
}

/** Rows kept by `SqliteChainStore` per kind; a few MB at most. */
const RECENT_ROWS = 8192

/** A bounded map of rows by hash; when it is full, the row kept first is dropped. */
class RecentRows<T> {
  readonly #rows = new Map<string, T>()

  constructor(readonly limit: number) {}

  get(key: string): T | undefined {
    return this.#rows.get(key)
  }

  keep(key: string, row: T): T {
    if (this.#rows.size >= this.limit) this.#rows.delete(this.#rows.keys().next().value!)
    this.#rows.set(key, row)
    return row
  }

  clear(): void {
    this.#rows.clear()
  }
}

function rowKey(hash: Uint8Array): string {
  return Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('latin1')
}
