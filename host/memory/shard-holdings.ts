/**
 * The shards this peer holds: one ShardStore each under `<dir>/<collection>/<shard>`, and whether each
 * is ready (caught up, so it may answer queries and be a catch-up source). A shard opened here is not
 * ready until it caught up (`shard-catch-up.ts`). Writes from peers are checked before they are kept.
 */
import { renameSync } from 'node:fs'
import { join } from 'node:path'
import type { Collection } from '../../zomes-bindings/index.ts'
import type { Logger } from '../log/logger.ts'
import { ShardNotReadyError } from './memory-errors.ts'
import { checkMetadata, checkVector } from './memory-input.ts'
import { shardKey, shardOf } from './memory-plan.ts'
import { CorruptShardError, type DocWrite, ShardStore } from './shard-store.ts'

/** A collection as the service knows it: its entry and the action hash that names it. */
export interface KnownCollection {
  hash: string
  collection: Collection
}

interface Held {
  store: ShardStore
  ready: boolean
  /** Writes applied since the last snapshot. */
  unsnapshotted: number
}

export class ShardHoldings {
  readonly #held = new Map<string, Held>()
  readonly #dir: string
  readonly #logger: Logger

  constructor(dir: string, logger: Logger) {
    this.#dir = dir
    this.#logger = logger
  }

  /** The store of a shard, opened (not ready) on first use. */
  open(known: KnownCollection, shard: number): Held {
    const key = shardKey(known.hash, shard)
    let held = this.#held.get(key)
    if (held === undefined) {
      const dir = join(this.#dir, known.hash, String(shard))
      const { dimension, metric } = known.collection
      held = { store: this.#openStore(dir, dimension, metric), ready: false, unsnapshotted: 0 }
      this.#held.set(key, held)
    }
    return held
  }

  /**
   * A damaged store is moved aside (kept for a person to look at) and the shard starts empty: not ready,
   * it catches up from the latest snapshot and a ready holder like any new copy.
   */
  #openStore(dir: string, dimension: number, metric: Collection['metric']): ShardStore {
    try {
      return ShardStore.open({ dir, dimension, metric, logger: this.#logger })
    } catch (err) {
      if (!(err instanceof CorruptShardError)) throw err
      const aside = `${dir}.damaged-${Date.now()}`
      renameSync(dir, aside)
      this.#logger.error(
        { err, moved_to: aside },
        'memory shard store damaged; moved aside, fetching the shard again',
      )
      return ShardStore.open({ dir, dimension, metric, logger: this.#logger })
    }
  }

  get(hash: string, shard: number): Held | undefined {
    return this.#held.get(shardKey(hash, shard))
  }

  /** Shards held here, ready or catching up. */
  count(): number {
    return this.#held.size
  }

  /** The memory their search indexes take. */
  bytes(): number {
    let bytes = 0
    for (const { store } of this.#held.values()) bytes += store.indexBytes()
    return bytes
  }

  /**
   * Applies writes from a peer (a write, a snapshot, a catch-up page, a repair's pull), checked as the
   * API checks a caller's first: dimension, finite numbers, metadata, shard. One wrong write stores none.
   */
  apply(known: KnownCollection, shard: number, writes: readonly DocWrite[]): number {
    for (const [i, write] of writes.entries()) {
      if (write.vector) checkVector(known.collection, Array.from(write.vector), `writes.${i}.vector`)
      checkMetadata(write.metadata, `writes.${i}.metadata`)
      if (shardOf(write.id, known.collection.shard_count) !== shard)
        throw new ShardNotReadyError(known.hash, shard)
    }
    const held = this.open(known, shard)
    const applied = held.store.apply(writes)
    held.unsnapshotted += applied
    return applied
  }

  close(): void {
    for (const held of this.#held.values()) held.store.close()
    this.#held.clear()
  }

  /** Saves every index that changed (they are rebuilt from SQLite otherwise, which takes longer). */
  save(): void {
    for (const [key, held] of this.#held) {
      try {
        held.store.save()
      } catch (err) {
        this.#logger.warn({ err, shard: key }, 'could not save a memory shard index')
      }
    }
  }
}
