/**
 * Shard snapshots: every write of a shard (tombstones included) as one msgpack file on IPFS, recorded
 * in memory_shards. The first holder of a shard publishes one as writes accumulate; a new, empty copy
 * starts from the latest and catches up on what came after; placement weighs a shard by its latest.
 */
import { decode, encode } from '@msgpack/msgpack'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { Logger } from '../log/logger.ts'
import { fromWire, toWire } from './memory-wire.ts'
import type { KnownCollection, ShardHoldings } from './shard-holdings.ts'

/** Keeps and fetches a shard's snapshot bytes by CID (IPFS). */
export interface SnapshotStore {
  put(bytes: Uint8Array, signal?: AbortSignal): Promise<string>
  get(cid: string, signal?: AbortSignal): Promise<Uint8Array>
}

export interface ShardSnapshotsInit {
  conductor: Pick<ConductorPort, 'callZome'>
  holdings: ShardHoldings
  /** Without one, no snapshot is published or loaded (a copy catches up from its peers only). */
  store?: SnapshotStore
  /** Writes to a shard after which its first holder publishes a snapshot. */
  afterWrites: number
  logger: Logger
}

export class ShardSnapshots {
  readonly #init: ShardSnapshotsInit

  constructor(init: ShardSnapshotsInit) {
    this.#init = init
  }

  /** The latest snapshot recorded of a shard (null: none yet). */
  latest(collection: string, shard: number) {
    return this.#init.conductor.callZome('memory_shards', 'get_latest_snapshot', { collection, shard })
  }

  /**
   * Loads the latest snapshot into this (empty) copy of a shard; answers when it was taken, from which
   * the copy catches up (null: there is none to load).
   */
  async load(known: KnownCollection, shard: number, signal: AbortSignal): Promise<number | null> {
    const snapshot = await this.latest(known.hash, shard)
    if (snapshot === null || this.#init.store === undefined) return null
    const bytes = await this.#init.store.get(snapshot.entry.cid, signal)
    const writes = (decode(bytes) as Parameters<typeof fromWire>[0][]).map(fromWire)
    this.#init.holdings.apply(known, shard, writes)
    return snapshot.entry.taken_at
  }

  /**
   * Publishes a snapshot of this copy of a shard once `afterWrites` writes came since the last one;
   * answers whether it did (the shard's size, as placement weighs it, changed).
   */
  async publishIfDue(known: KnownCollection, shard: number): Promise<boolean> {
    const held = this.#init.holdings.get(known.hash, shard)
    const store = this.#init.store
    if (!held || !store || held.unsnapshotted < this.#init.afterWrites) return false
    const writes = held.store.changesAfter({ updated_at: 0, id: '' }, Number.MAX_SAFE_INTEGER)
    const takenAt = held.store.newest() ?? Date.now()
    held.unsnapshotted = 0
    const cid = await store.put(encode(writes.map(toWire)))
    await this.#init.conductor.callZome('memory_shards', 'publish_snapshot', {
      collection: known.hash,
      shard,
      cid,
      doc_count: held.store.count(),
      taken_at: takenAt,
    })
    this.#init.logger.info(
      { collection: known.collection.name, shard, cid },
      'memory shard snapshot published',
    )
    return true
  }
}
