/**
 * One shard of a collection on this peer: a SQLite file that is the shard's truth (ids, vectors,
 * metadata, when each was last written, tombstones of deletes), and its search index
 * (`shard-index.ts`), saved beside it with the SQLite version it reflects; on open a missing, stale
 * or damaged index file is rebuilt from SQLite. A damaged SQLite file is a clear error naming it: the
 * service then re-fetches the shard from a snapshot and its peers.
 *
 * Writes are last-writer-wins by `updated_at`, so replicas that receive the same writes in different
 * orders agree, and a snapshot followed by the writes after it gives the same shard. Every write also
 * updates the shard's bucket digests (`shard-digests.ts`) in the same transaction.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Metric } from '../../zomes-bindings/index.ts'
import type { Logger } from '../log/logger.ts'
import { ensurePrivateFileSync, tightenIfPresentSync } from '../storage/private-files.ts'
import type { BucketDigest } from './repair-plan.ts'
import { DIGESTS_TABLE, DigestChanges, EMPTY_DIGEST, ShardDigests } from './shard-digests.ts'
import { ShardIndex } from './shard-index.ts'

export type MetadataValue = string | number | boolean | null
export type Metadata = Record<string, MetadataValue>
/** Every key must equal its value in a document's metadata. */
export type MetadataFilter = Metadata

/** A write as every holder of the shard stores it. */
export interface DocWrite {
  id: string
  /** null: a delete (kept as a tombstone so a late older upsert cannot resurrect it). */
  vector: Float32Array | null
  metadata: Metadata
  /** Writer's clock (ms); the newest write of an id wins. */
  updated_at: number
}

export interface ShardHit {
  id: string
  distance: number
  metadata: Metadata
}

export interface ShardStoreInit {
  dir: string
  dimension: number
  metric: Metric
  logger: Logger
}

/** Thrown when a shard's SQLite file is not a readable database, or holds another dimension. */
export class CorruptShardError extends Error {
  static override readonly name = 'CorruptShardError'
  constructor(
    readonly path: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(
      `the memory shard ${path} is unreadable (${reason}); it is rebuilt from a snapshot and its peers`,
      options,
    )
    this.name = 'CorruptShardError'
  }
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS docs (
  id TEXT PRIMARY KEY,
  label INTEGER NOT NULL UNIQUE,
  vector BLOB,
  metadata TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_by_time ON docs (updated_at, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
${DIGESTS_TABLE}`
/** The digests table's layout version: a store without it (older, or never digested) is digested on open. */
const DIGESTS_VERSION = '1'

interface DocRow {
  id: string
  label: number
  vector: Buffer | null
  metadata: string
  updated_at: number
}

export class ShardStore {
  readonly #db: Database.Database
  readonly #index: ShardIndex
  readonly #digests: ShardDigests
  readonly #dimension: number
  #version: number
  /** Live documents, kept here: counting rows on every query would cost a scan. */
  #live: number
  #savedVersion: number

  private constructor(db: Database.Database, index: ShardIndex, dimension: number) {
    this.#db = db
    this.#index = index
    this.#digests = new ShardDigests(db)
    this.#dimension = dimension
    this.#version = Number(this.#meta('version') ?? 0)
    this.#savedVersion = this.#version
    this.#live = (
      db.prepare('SELECT count(*) AS n FROM docs WHERE vector IS NOT NULL').get() as { n: number }
    ).n
  }

  static open(init: ShardStoreInit): ShardStore {
    const dbPath = join(init.dir, 'shard.sqlite')
    mkdirSync(init.dir, { recursive: true, mode: 0o700 })
    ensurePrivateFileSync(dbPath)
    let db: Database.Database
    try {
      db = new Database(dbPath)
      db.pragma('journal_mode = WAL')
      db.exec(SCHEMA)
    } catch (err) {
      throw new CorruptShardError(dbPath, (err as Error).message, { cause: err })
    }
    tightenIfPresentSync([`${dbPath}-wal`, `${dbPath}-shm`])
    const dimension = metaOf(db, 'dimension')
    if (dimension !== undefined && Number(dimension) !== init.dimension) {
      db.close()
      throw new CorruptShardError(dbPath, `it holds dimension ${dimension}, the collection ${init.dimension}`)
    }
    const index = new ShardIndex(join(init.dir, 'index.hnsw'), init.metric, init.dimension)
    const store = new ShardStore(db, index, init.dimension)
    store.#setMeta('dimension', String(init.dimension))
    const current = store.#meta('version') === store.#meta('index_version')
    const loaded = current && index.load(store.#meta('index_sha256'), init.logger)
    if (store.#meta('digests_version') !== DIGESTS_VERSION) store.#redigest()
    if (!loaded) store.#rebuild()
    return store
  }

  get dimension(): number {
    return this.#dimension
  }

  /** Live documents (tombstones excluded). */
  count(): number {
    return this.#live
  }

  /** The memory its search index takes (the documents themselves are on disk). */
  indexBytes(): number {
    return this.#index.bytes()
  }

  /**
   * Applies writes in one transaction; an older write than the one held for an id is ignored, and so is
   * the one held again. Answers how many changed the shard.
   */
  apply(writes: readonly DocWrite[]): number {
    const find = this.#db.prepare(
      'SELECT label, updated_at, vector IS NOT NULL AS live FROM docs WHERE id = ?',
    )
    const nextLabel = this.#db.prepare('SELECT coalesce(max(label), -1) + 1 AS label FROM docs')
    const content = this.#db.prepare('SELECT vector, metadata FROM docs WHERE id = ?')
    const put = this.#db.prepare(
      'INSERT OR REPLACE INTO docs (id, label, vector, metadata, updated_at) VALUES (?, ?, ?, ?, ?)',
    )
    const changed: { label: number; vector: Float32Array | null; deleted: boolean }[] = []
    const digests = new DigestChanges()
    let live = this.#live
    this.#db.transaction(() => {
      for (const w of writes) {
        const held = find.get(w.id) as { label: number; updated_at: number; live: number } | undefined
        const bytes = w.vector && Buffer.from(w.vector.buffer, w.vector.byteOffset, w.vector.byteLength)
        if (held && held.updated_at > w.updated_at) continue
        // Two writes of one id in the same millisecond: the greater content wins, whichever came first,
        // so replicas agree; the same write again (a retry, a repair) changes nothing.
        if (held && held.updated_at === w.updated_at) {
          const row = content.get(w.id) as { vector: Buffer | null; metadata: string }
          if (
            Buffer.compare(
              contentKey(bytes, JSON.stringify(w.metadata)),
              contentKey(row.vector, row.metadata),
            ) <= 0
          )
            continue
        }
        const label = held?.label ?? (nextLabel.get() as { label: number }).label
        put.run(w.id, label, bytes, JSON.stringify(w.metadata), w.updated_at)
        changed.push({ label, vector: w.vector, deleted: held !== undefined && held.live === 0 })
        live += (w.vector ? 1 : 0) - (held?.live ?? 0)
        if (held) digests.toggle(w.id, held.updated_at, -1)
        digests.toggle(w.id, w.updated_at, 1)
      }
      if (changed.length > 0) {
        this.#digests.store(digests)
        this.#setVersion(this.#version + 1)
      }
    })()
    this.#live = live
    for (const { label, vector, deleted } of changed) this.#index.put(label, vector, deleted)
    return changed.length
  }

  /** The `k` nearest live documents to `vector` whose metadata matches `filter`. */
  query(vector: Float32Array, k: number, filter: MetadataFilter = {}): ShardHit[] {
    const live = this.count()
    if (live === 0) return []
    const keys = Object.keys(filter)
    let allowed: Set<number> | null = null
    if (keys.length > 0) {
      const where = keys.map(() => 'json_extract(metadata, ?) IS ?').join(' AND ')
      const params = keys.flatMap((key) => [
        `$."${key.replaceAll('"', '""')}"`,
        sqlValue(filter[key] ?? null),
      ])
      const rows = this.#db
        .prepare(`SELECT label FROM docs WHERE vector IS NOT NULL AND ${where}`)
        .all(...params) as { label: number }[]
      allowed = new Set(rows.map((r) => r.label))
      if (allowed.size === 0) return []
    }
    const found = this.#index.search(vector, Math.min(k, allowed?.size ?? live), allowed)
    const byLabel = this.#db.prepare('SELECT id, metadata FROM docs WHERE label = ?')
    return found.neighbors.map((label, i) => {
      const row = byLabel.get(label) as { id: string; metadata: string }
      return {
        id: row.id,
        distance: found.distances[i] ?? Number.POSITIVE_INFINITY,
        metadata: JSON.parse(row.metadata),
      }
    })
  }

  /** When the newest write held was made (tombstones included); null when the shard is empty. */
  newest(): number | null {
    return (this.#db.prepare('SELECT max(updated_at) AS t FROM docs').get() as { t: number | null }).t
  }

  /**
   * Writes (tombstones included) after `(updated_at, id)` and made before `before`, oldest first: a
   * snapshot's pages, a catch-up, a repair's pull.
   */
  changesAfter(
    after: { updated_at: number; id: string },
    limit: number,
    before = Number.MAX_SAFE_INTEGER,
  ): DocWrite[] {
    const rows = this.#db
      .prepare(
        'SELECT * FROM docs WHERE (updated_at, id) > (?, ?) AND updated_at < ? ORDER BY updated_at, id LIMIT ?',
      )
      .all(after.updated_at, after.id, before, limit) as DocRow[]
    return rows.map((r) => ({
      id: r.id,
      vector: r.vector && floats(r.vector),
      metadata: JSON.parse(r.metadata) as Metadata,
      updated_at: r.updated_at,
    }))
  }

  /** The digests of buckets `from..to` (inclusive) at `level` that hold writes, by bucket. */
  digests(level: number, from: number, to: number): BucketDigest[] {
    return this.#digests.read(level, from, to)
  }

  /** The whole shard's digest (equal on replicas that hold the same writes). */
  digest(): string {
    return this.digests(0, 0, 0)[0]?.digest ?? EMPTY_DIGEST
  }

  /** Saves the index (when it changed since the last save) with the version and digest it reflects. */
  save(): void {
    if (this.#savedVersion === this.#version) return
    const digest = this.#index.save()
    this.#db.transaction(() => {
      this.#setMeta('index_sha256', digest)
      this.#setMeta('index_version', String(this.#version))
    })()
    this.#savedVersion = this.#version
  }

  close(): void {
    this.save()
    this.#db.close()
  }

  #rebuild(): void {
    const rows = this.#db
      .prepare('SELECT label, vector FROM docs WHERE vector IS NOT NULL')
      .iterate() as Iterable<{ label: number; vector: Buffer }>
    const points = function* () {
      for (const r of rows) yield { label: r.label, vector: floats(r.vector) }
    }
    this.#index.rebuild(this.count(), points())
    // Force a save at close even when nothing else changes: the file on disk is not this index.
    this.#savedVersion = -1
  }

  /** Computes every bucket digest from the documents (a store from before digests, once). */
  #redigest(): void {
    this.#db.transaction(() => {
      this.#digests.recompute()
      this.#setMeta('digests_version', DIGESTS_VERSION)
    })()
  }

  #meta(key: string): string | undefined {
    return metaOf(this.#db, key)
  }

  #setMeta(key: string, value: string): void {
    this.#db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value)
  }

  #setVersion(version: number): void {
    this.#version = version
    this.#setMeta('version', String(version))
  }
}

function metaOf(db: Database.Database, key: string): string | undefined {
  return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value
}

/** What orders two writes of one id made in the same millisecond: a tombstone first, then by bytes. */
function contentKey(vector: Buffer | null, metadata: string): Buffer {
  return vector === null ? Buffer.alloc(0) : Buffer.concat([Buffer.from([1]), vector, Buffer.from(metadata)])
}

function floats(bytes: Buffer): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
}

/** SQLite's json_extract answers 1/0 for JSON booleans. */
function sqlValue(value: MetadataValue): string | number | null {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value
}
