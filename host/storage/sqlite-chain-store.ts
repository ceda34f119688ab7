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
import Database from 'better-sqlite3'
import {
  type AuthorHead,
  type ChainCheckpoint,
  type ChainHead,
  ChainHeadMovedError,
  type ChainStore,
  type CommitItem,
  type EntryKeyIndexState,
  type EntryKeyRow,
  type LinkQuery,
  type StoredAction,
  type StoredEntry,
  type StoredLink,
  type Warrant,
} from './chain-store.ts'
import { ensurePrivateFileSync, tightenIfPresentSync } from './private-files.ts'
import { RecentRows, rowKey } from './recent-rows.ts'
import { writeItem } from './sqlite-items.ts'
import { buf, bytes, type LinkRow, nullableBuf, toAction, toLink } from './sqlite-rows.ts'
import { linkQuerySql, migrate, prepareStatements, SCHEMA, type Statements } from './sqlite-schema.ts'
import { CorruptStoreError, isCorrupt, namingDamage } from './store-damage.ts'
import { WalSync } from './wal-sync.ts'

/**
 * Opens (creating if needed) the store at `path`, its files 0600; ':memory:' works for tests.
 * Throws CorruptStoreError for a file that is not a sound SQLite database, at open or from any call.
 */
export function openSqliteChainStore(path: string): ChainStore {
  return namingDamage(new SqliteChainStore(path), path)
}

class SqliteChainStore implements ChainStore {
  readonly #db: Database.Database
  readonly #stmts: Statements
  /** One prepared statement per shape of link query (at most eight). */
  readonly #linkQueries = new Map<string, Database.Statement<unknown[], LinkRow>>()
  /** Syncs the WAL for `flush` (null in memory). */
  readonly #wal: WalSync | null
  /**
   * Actions and entries read lately, by hash. Both are immutable once stored, and the same few are
   * read over and over (a task's records by every visit, rules' dependencies, chain heads); emptied
   * when a transaction rolls back, since a row read or written inside it may be gone.
   */
  readonly #actions = new RecentRows<StoredAction>(RECENT_ROWS, RECENT_BYTES, (a) => a.bytes.length)
  readonly #entries = new RecentRows<StoredEntry>(RECENT_ROWS, RECENT_BYTES, (e) => e.bytes.length)
  /** The warrants as last read outside a transaction; null once one is added. */
  #warrants: readonly Warrant[] | null = null

  constructor(path: string) {
    this.#wal = path === ':memory:' ? null : new WalSync(`${path}-wal`, () => this.#db.open)
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
      migrate(db)
    } catch (err) {
      db.close()
      if (isCorrupt(err)) throw new CorruptStoreError(path, err)
      throw err
    }
    this.#db = db
    this.#stmts = prepareStatements(db)
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
      for (const item of items) writeItem(s, item, false)
      const last = items.at(-1)
      if (last) {
        s.setHead.run(dna, agent, buf(last.action.hash), last.action.seq)
        if (expectedHead !== null)
          s.advanceKeyIndexHead.run(buf(last.action.hash), last.action.seq, dna, agent, buf(expectedHead))
      }
      // What was just written is what is read next (the chain's head, the dependencies of what follows).
      for (const { action, entry } of items) {
        this.#actions.keep(rowKey(action.hash), chainRow(action))
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

  holdOps(items: CommitItem[]): void {
    const s = this.#stmts
    const hold = () => {
      for (const item of items) {
        const { action, entry } = item
        // Stored already, or its seq taken (a fork: the caller judges it before).
        if (s.actionAt.get(buf(action.dnaHash), buf(action.author), action.seq) !== undefined) continue
        writeItem(s, item, true)
        this.#actions.keep(rowKey(action.hash), { ...action, held: true })
        if (entry) this.#entries.keep(rowKey(entry.hash), entry)
      }
    }
    if (this.#db.inTransaction) hold()
    else this.#inTransaction(hold)
  }

  dropHeld(hash: Uint8Array): boolean {
    const s = this.#stmts
    const drop = () => {
      if (s.dropHeld.run(buf(hash)).changes === 0) return false
      s.dropLink.run(buf(hash))
      s.undeleteLink.run(buf(hash))
      return true
    }
    const dropped = this.#db.inTransaction ? drop() : this.#inTransaction(drop)
    if (dropped) this.#actions.forget(rowKey(hash))
    return dropped
  }

  actionAt(dnaHash: Uint8Array, author: Uint8Array, seq: number): StoredAction | null {
    const row = this.#stmts.actionAt.get(buf(dnaHash), buf(author), seq)
    return row ? toAction(row) : null
  }

  *heldActions(dnaHash: Uint8Array): Iterable<StoredAction> {
    for (const row of this.#stmts.held.iterate(buf(dnaHash))) yield toAction(row)
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

  writeCount(): number {
    return this.#stmts.writeCount.get()!
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
    return this.#wal?.flush() ?? Promise.resolve()
  }

  addWarrant(warrant: Warrant): void {
    this.#warrants = null
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

  listWarrants(): readonly Warrant[] {
    // Read for every request routed (each peer's warrant), written once in a blue moon: kept, but
    // not from inside a transaction, whose warrant may still be rolled back.
    if (this.#warrants !== null) return this.#warrants
    const warrants = this.#readWarrants()
    if (!this.#db.inTransaction) this.#warrants = warrants
    return warrants
  }

  #readWarrants(): Warrant[] {
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

  findKeyed(dnaHash: Uint8Array, author: Uint8Array, entryType: string, key: string): StoredAction | null {
    const row = this.#stmts.keyed.get(buf(dnaHash), buf(author), entryType, key)
    return row ? toAction(row) : null
  }

  findKeyedRange(
    dnaHash: Uint8Array,
    author: Uint8Array,
    entryType: string,
    fromKey: string,
    toKey: string,
  ): StoredAction[] {
    return this.#stmts.keyedRange.all(buf(dnaHash), buf(author), entryType, fromKey, toKey).map(toAction)
  }

  entryKeyIndex(dnaHash: Uint8Array, author: Uint8Array): EntryKeyIndexState | null {
    const version = this.#stmts.keyIndexVersion.get(buf(dnaHash), buf(author))
    if (version === undefined) return null
    const head = this.#stmts.keyIndexHead.get(buf(dnaHash), buf(author))
    return { version, head: head ? { hash: bytes(head.hash), seq: head.seq } : null }
  }

  setEntryKeyIndex(
    dnaHash: Uint8Array,
    author: Uint8Array,
    index: EntryKeyIndexState & { rows: EntryKeyRow[]; replace: boolean },
  ): void {
    const dna = buf(dnaHash)
    const agent = buf(author)
    const s = this.#stmts
    this.#inTransaction(() => {
      if (index.replace) s.clearKeys.run(dna, agent)
      for (const row of index.rows)
        s.insertKey.run(dna, agent, row.entryType, row.key, row.seq, buf(row.actionHash))
      s.setKeyIndexVersion.run(dna, agent, index.version)
      if (index.head) s.setKeyIndexHead.run(dna, agent, buf(index.head.hash), index.head.seq)
    })
  }

  getLink(createHash: Uint8Array): StoredLink | null {
    const row = this.#stmts.link.get(buf(createHash))
    return row ? toLink(row) : null
  }

  getLinks(query: LinkQuery): StoredLink[] {
    const { sql, params } = linkQuerySql(query)
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
    this.#wal?.close()
  }
}

/** Rows kept by `SqliteChainStore` per kind, within RECENT_BYTES. */
const RECENT_ROWS = 8192
/**
 * Bytes of rows kept per kind. Bounded by count alone, every entry written was kept: 8,192 task
 * payloads of 1 MiB each held 8 GiB (issue 55, point 13: an idle daemon at 1.8 GB after waves of submits).
 */
const RECENT_BYTES = 16 * 2 ** 20

/**
 * `action` as a row of its chain: a held row promoted (its caller passes the row it read, marked held)
 * is cached unmarked, else a later read by hash takes it for still held and ingest judged it anew,
 * a second action at its own seq: a false chain.fork warrant on its honest author.
 */
function chainRow(action: StoredAction): StoredAction {
  if (action.held !== true) return action
  const { held: _held, ...row } = action
  return row
}
