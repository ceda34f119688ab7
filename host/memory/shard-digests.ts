/**
 * A shard's bucket digests (`repair-plan.ts`) in its SQLite file, by which replicas find what one of
 * them misses: what a batch of writes changes in them (summed per bucket, stored in the writes' own
 * transaction), and every digest computed again for a store from before digests existed.
 */
import type Database from 'better-sqlite3'
import { type BucketDigest, bucketOf, REPAIR_SHIFTS, writeDigest } from './repair-plan.ts'

export const DIGESTS_TABLE = `
CREATE TABLE IF NOT EXISTS digests (
  level INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  count INTEGER NOT NULL,
  digest TEXT NOT NULL,
  PRIMARY KEY (level, bucket)
) WITHOUT ROWID;
`

/** The digest of a shard (or bucket) without writes. */
export const EMPTY_DIGEST = '0'.repeat(16)

interface BucketChange {
  level: number
  bucket: number
  count: number
  xor: bigint
}

/** What a batch of writes changes in the bucket digests, summed per (level, bucket) before it is stored. */
export class DigestChanges {
  readonly #byBucket = new Map<string, BucketChange>()

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

  values(): Iterable<BucketChange> {
    return this.#byBucket.values()
  }
}

export class ShardDigests {
  readonly #db: Database.Database

  constructor(db: Database.Database) {
    this.#db = db
  }

  /** The digests of buckets `from..to` (inclusive) at `level` that hold writes, by bucket. */
  read(level: number, from: number, to: number): BucketDigest[] {
    return this.#db
      .prepare(
        'SELECT bucket, count, digest FROM digests WHERE level = ? AND bucket BETWEEN ? AND ? ORDER BY bucket',
      )
      .all(level, from, to) as BucketDigest[]
  }

  /** Adds `changes` to the stored digests; call inside the transaction that made them. */
  store(changes: DigestChanges): void {
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

  /** Computes every digest from the documents; call inside a transaction. */
  recompute(): void {
    const digests = new DigestChanges()
    const rows = this.#db.prepare('SELECT id, updated_at FROM docs').iterate() as Iterable<{
      id: string
      updated_at: number
    }>
    for (const r of rows) digests.toggle(r.id, r.updated_at, 1)
    this.#db.exec('DELETE FROM digests')
    this.store(digests)
  }
}
