/**
 * Where each collection's shards are: `placeCollections` (memory-plan.ts) over the live peers that
 * give the memory room, every collection weighed by its shards' sizes as of their latest snapshots,
 * oldest collection first so that a newer one never moves an older one's shards.
 */
import type { Collection } from '../../zomes-bindings/index.ts'
import type { CollectionCatalog } from './collection-catalog.ts'
import { docBytes, placeCollections, type ShardDemand } from './memory-plan.ts'
import type { ShardSnapshots } from './shard-snapshots.ts'

/** A live peer, with its load (0..1) to route queries by and the bytes it gives the memory (0: none). */
export interface MemoryPeer {
  agent: string
  load: number
  capacity: number
}

export interface ShardPlacementInit {
  catalog: CollectionCatalog
  snapshots: ShardSnapshots
  /** The live peers, this one included, with the memory capacity each advertises. */
  peers: () => Promise<MemoryPeer[]>
}

export class ShardPlacement {
  readonly #init: ShardPlacementInit
  /** Per collection, each shard's bytes by its latest snapshot (refreshed by every placement check). */
  readonly #shardBytes = new Map<string, number[]>()

  constructor(init: ShardPlacementInit) {
    this.#init = init
  }

  /** The live peers now. */
  peers(): Promise<MemoryPeer[]> {
    return this.#init.peers()
  }

  /** Every collection's placement over `peers`, by action hash; `extra` (a collection to be) last. */
  all(peers: readonly MemoryPeer[], extra?: ShardDemand): Map<string, string[][]> {
    const demands: ShardDemand[] = this.#init.catalog
      .named()
      .sort((a, b) => a.timestamp - b.timestamp || (a.action_hash < b.action_hash ? -1 : 1))
      .map((c) => ({
        collection: c.action_hash,
        replication: c.entry.replication,
        shardBytes: this.#shardBytes.get(c.action_hash) ?? new Array(c.entry.shard_count).fill(0),
      }))
    return placeCollections(extra ? [...demands, extra] : demands, peers)
  }

  /** One collection's placement: per shard, its holders (over `peers`, or the live peers now). */
  async of(hash: string, peers?: readonly MemoryPeer[]): Promise<string[][]> {
    return this.all(peers ?? (await this.peers())).get(hash) ?? []
  }

  /**
   * The shards of a collection to be created that would get no holder: placed after every existing
   * collection with nothing in it yet, and a shard without a holder now never gets one.
   */
  async unplaceable(collection: Collection): Promise<number[]> {
    const trial = '\u0000new'
    const placement = this.all(await this.peers(), {
      collection: trial,
      replication: collection.replication,
      shardBytes: new Array(collection.shard_count).fill(0),
    }).get(trial)
    return (placement ?? []).flatMap((holders, shard) => (holders.length === 0 ? [shard] : []))
  }

  /** Each shard's size by its latest snapshot: what placement weighs against the peers' room. */
  async refreshSizes(): Promise<void> {
    for (const c of this.#init.catalog.named()) {
      const sizes = await Promise.all(
        Array.from({ length: c.entry.shard_count }, async (_, shard) => {
          const latest = await this.#init.snapshots.latest(c.action_hash, shard)
          return (latest?.entry.doc_count ?? 0) * docBytes(c.entry.dimension)
        }),
      )
      this.#shardBytes.set(c.action_hash, sizes)
    }
  }
}
