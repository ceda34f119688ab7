/**
 * One shard of a collection on this peer: an HNSW index (hnswlib-node, chosen by
 * `bench/memory-index.ts`) for the search, and a SQLite file that is the shard's truth (ids, vectors,
 * metadata, when each was last written, tombstones of deletes). The index is saved beside it with the
 * SQLite version it reflects and its sha256; on open a missing, stale or damaged index file is rebuilt
 * from SQLite (a damaged one is logged as such). A damaged SQLite file is a clear error naming it: the
 * service then re-fetches the shard from a snapshot and its peers.
 *
 * Writes are last-writer-wins by `updated_at`, so replicas that receive the same writes in different
 * orders agree, and a snapshot followed by the writes after it gives the same shard. Every write also
 * updates the shard's bucket digests (`repair-plan.ts`), kept in the same transaction, by which
 * replicas find what one of them misses.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import hnswlib from 'hnswlib-node'
import type { Metric } from '../../zomes-bindings/index.ts'
import type { Logger } from '../log/logger.ts'
import { ensurePrivateFileSync, tightenIfPresentSync } from '../storage/private-files.ts'
import { type BucketDigest, bucketOf, REPAIR_SHIFTS, writeDigest } from './repair-plan.ts'

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
CREATE TABLE IF NOT EXISTS digests (
  level INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  count INTEGER NOT NULL,
  digest TEXT NOT NULL,
  PRIMARY KEY (level, bucket)
) WITHOUT ROWID;
`
/** The digests table's layout version: a store without it (older, or never digested) is digested on open. */
const DIGESTS_VERSION = '1'
// M 16, ef 128 / 64: the settings bench/memory-index.ts measured (recall@10 0.999 on 20,000 x 384).
const M = 16
const EF_CONSTRUCTION = 128
const EF_SEARCH = 64
const INITIAL_CAPACITY = 1024

interface DocRow {
  id: string
  label: number
  vector: Buffer | null
  metadata: string
  updated_at: number
}

// A CommonJS addon: Node's ESM loader gives its exports as the default export only.
const { HierarchicalNSW } = hnswlib
type HierarchicalNSW = InstanceType<typeof HierarchicalNSW>

const SPACES: Record<Metric, 'cosine' | 'l2' | 'ip'> = { cosine: 'cosine', l2: 'l2', ip: 'ip' }

export class ShardStore {
  readonly #db: Database.Database
  readonly #index: HierarchicalNSW
  readonly #indexPath: string
  readonly #dimension: number
  #version: number
  /** Live documents, kept here: counting rows on every query would cost a scan. */
  #live: number
  #savedVersion: number

  private constructor(db: Database.Database, index: HierarchicalNSW, indexPath: string, dimension: number) {
    this.#db = db
    this.#index = index
    this.#indexPath = indexPath
    this.#dimension = dimension
    this.#version = Number(this.#meta('version') ?? 0)
    this.#savedVersion = this.#version
    this.#live = (
      db.prepare('SELECT count(*) AS n FROM docs WHERE vector IS NOT NULL').get() as { n: number }
    ).n
  }

  static open(init: ShardStoreInit): ShardStore {
    const dbPath = join(init.dir, 'shard.sqlite')
    const indexPath = join(init.dir, 'index.hnsw')
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
    const get = (key: string) =>
      (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value
    const dimension = get('dimension')
    if (dimension !== undefined && Number(dimension) !== init.dimension) {
      db.close()
      throw new CorruptShardError(dbPath, `it holds dimension ${dimension}, the collection ${init.dimension}`)
    }
    db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(
      'dimension',
      String(init.dimension),
    )
    const index = new HierarchicalNSW(SPACES[init.metric], init.dimension)
    const current = get('version') === get('index_version')
    const loaded = current && loadIndex(index, indexPath, get('index_sha256'), init.logger)
    const store = new ShardStore(db, index, indexPath, init.dimension)
    if (get('digests_version') !== DIGESTS_VERSION) store.#redigest()
    if (!loaded) store.#rebuild()
    index.setEf(EF_SEARCH)
    return store
  }

  get dimension(): number {
    return this.#dimension
  }

  /** Live documents (tombstones excluded). */
  count(): number {
    return this.#live
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
        this.#storeDigests(digests)
        this.#setVersion(this.#version + 1)
      }
    })()
    this.#live = live
    for (const { label, vector, deleted } of changed) this.#indexPut(label, vector, deleted)
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
    const n = Math.min(k, allowed?.size ?? live)
    this.#index.setEf(Math.max(EF_SEARCH, n))
    const found = allowed
      ? this.#index.searchKnn(Array.from(vector), n, (label) => allowed.has(label))
      : this.#index.searchKnn(Array.from(vector), n)
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
    return this.#db
      .prepare(
        'SELECT bucket, count, digest FROM digests WHERE level = ? AND bucket BETWEEN ? AND ? ORDER BY bucket',
      )
      .all(level, from, to) as BucketDigest[]
  }

  /** The whole shard's digest (equal on replicas that hold the same writes). */
  digest(): string {
    return this.digests(0, 0, 0)[0]?.digest ?? EMPTY_DIGEST
  }

  /** Saves the index (when it changed since the last save) with the version and digest it reflects. */
  save(): void {
    if (this.#savedVersion === this.#version) return
    const tmp = `${this.#indexPath}.tmp`
    this.#index.writeIndexSync(tmp)
    const digest = sha256File(tmp)
    renameSync(tmp, this.#indexPath)
    tightenIfPresentSync([this.#indexPath])
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

  /** `deleted`: the label is a tombstone now (marked deleted in the index, if it was ever there). */
  #indexPut(label: number, vector: Float32Array | null, deleted: boolean): void {
    const index = this.#index
    if (vector === null) {
      try {
        index.markDelete(label)
      } catch {
        // Not in the index (a delete of an id never upserted here): the tombstone is all there is.
      }
      return
    }
    if (index.getCurrentCount() >= index.getMaxElements()) index.resizeIndex(index.getMaxElements() * 2)
    if (deleted) {
      try {
        index.unmarkDelete(label)
      } catch {
        // A tombstone of an id never upserted here: addPoint below adds it.
      }
    }
    index.addPoint(Array.from(vector), label)
  }

  #rebuild(): void {
    const live = this.count()
    this.#index.initIndex({
      maxElements: Math.max(INITIAL_CAPACITY, live * 2),
      m: M,
      efConstruction: EF_CONSTRUCTION,
      randomSeed: 100,
    })
    const rows = this.#db
      .prepare('SELECT label, vector FROM docs WHERE vector IS NOT NULL')
      .iterate() as Iterable<{
      label: number
      vector: Buffer
    }>
    for (const r of rows) this.#index.addPoint(Array.from(floats(r.vector)), r.label)
    // Force a save at close even when nothing else changes: the file on disk is not this index.
    this.#savedVersion = -1
  }

  /** Computes every bucket digest from the documents (a store from before digests, once). */
  #redigest(): void {
    const digests = new DigestChanges()
    const rows = this.#db.prepare('SELECT id, updated_at FROM docs').iterate() as Iterable<{
      id: string
      updated_at: number
    }>
    for (const r of rows) digests.toggle(r.id, r.updated_at, 1)
    this.#db.transaction(() => {
      this.#db.exec('DELETE FROM digests')
      this.#storeDigests(digests)
      this.#setMeta('digests_version', DIGESTS_VERSION)
    })()
  }

  #storeDigests(changes: DigestChanges): void {
    const get = this.#db.prepare('SELECT count, digest FROM digests WHERE level = ? AND bucket = ?')
    const put = this.#db.prepare(
      'INSERT OR REPLACE INTO digests (level, bucket, count, digest) VALUES (?, ?, ?, ?)',
    )
    const drop = this.#db.prepare('DELETE FROM digests WHERE level = ? AND bucket = ?')
    for (const { level, bucket, count, xor } of changes.values()) {
      const held = get.get(level, bucket) as { count: number; digest: string } | undefined
      const total = (held?.count ?? 0) + count
      const digest = BigInt(`0x${held?.digest ?? EMPTY_DIGEST}`) ^ xor
      if (total === 0) drop.run(level, bucket)
      else put.run(level, bucket, total, digest.toString(16).padStart(16, '0'))
    }
  }

  #meta(key: string): string | undefined {
    return (
      this.#db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined
    )?.value
  }

  #setMeta(key: string, value: string): void {
    this.#db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value)
  }

  #setVersion(version: number): void {
    this.#version = version
    this.#setMeta('version', String(version))
  }
}

const EMPTY_DIGEST = '0'.repeat(16)

/** What orders two writes of one id made in the same millisecond: a tombstone first, then by bytes. */
function contentKey(vector: Buffer | null, metadata: string): Buffer {
  return vector === null ? Buffer.alloc(0) : Buffer.concat([Buffer.from([1]), vector, Buffer.from(metadata)])
}

/** What a batch of writes changes in the bucket digests, summed per (level, bucket) before it is stored. */
class DigestChanges {
  readonly #byBucket = new Map<string, { level: number; bucket: number; count: number; xor: bigint }>()

  /** Adds (`sign` 1) or removes (-1) one write's share of each level's bucket. */
  toggle(id: string, updatedAt: number, sign: 1 | -1): void {
    const digest = writeDigest(id, updatedAt)
    for (let level = 0; level < REPAIR_SHIFTS.length; level++) {
      const bucket = bucketOf(updatedAt, level)
      const key = `${level}/${bucket}`
      const change = this.#byBucket.get(key) ?? { level, bucket, count: 0, xor: 0n }
      change.count += sign
      change.xor ^= digest
      this.#byBucket.set(key, change)
    }
  }

  values(): Iterable<{ level: number; bucket: number; count: number; xor: bigint }> {
    return this.#byBucket.values()
  }
}

/** Reads the saved index into `index`; false (to rebuild) when it is missing or not the bytes saved. */
function loadIndex(
  index: HierarchicalNSW,
  path: string,
  digest: string | undefined,
  logger: Logger,
): boolean {
  if (!existsSync(path)) return false
  const saved = digest !== undefined && sha256File(path) === digest
  if (!saved) {
    logger.warn(
      { path },
      'memory shard index file is damaged (its digest differs); rebuilding it from the shard store',
    )
    rmSync(path, { force: true })
    return false
  }
  try {
    index.readIndexSync(path)
  } catch (err) {
    logger.warn({ path, err }, 'memory shard index file is unreadable; rebuilding it from the shard store')
    return false
  }
  return true
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

function floats(bytes: Buffer): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
}

/** SQLite's json_extract answers 1/0 for JSON booleans. */
function sqlValue(value: MetadataValue): string | number | null {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value
}
