/**
 * memory_shards coordinator, mirroring the Rust one: collections linked from an all-collections anchor,
 * shard holders from their collection, snapshots from a (collection, shard) anchor. Readers check what
 * each link leads to, since anyone may write a link; a holder counts only when it announced itself.
 */
import type { ShardHolder, ShardSnapshot } from '../../../../zomes-bindings/index.ts'
import { decodeHashB64 } from '../../../identity/hash.ts'
import type { Hdk } from '../hdk.ts'
import type { CoordinatorZome } from './coordinator-zome.ts'
import { createUnderAnchor, linkedRecords, toRecordRef } from './entry-record.ts'

const ALL_COLLECTIONS = 'all_collections'
const shardAnchor = (hdk: Hdk, collection: string, shard: number) =>
  hdk.anchor(`shard:${collection}:${shard}`)

export const memoryShardsZome: CoordinatorZome<'memory_shards'> = {
  create_collection(hdk, collection) {
    return createUnderAnchor(hdk, ALL_COLLECTIONS, 'Collection', collection, 'AllCollections')
  },

  list_collections(hdk) {
    return linkedRecords(hdk, hdk.anchor(ALL_COLLECTIONS), 'AllCollections', 'Collection')
  },

  announce_shard_holder(hdk, holder) {
    const hash = hdk.create_entry('ShardHolder', holder)
    hdk.create_link(decodeHashB64(holder.collection, 'action'), hash, 'CollectionToHolders')
    return toRecordRef(hdk.get(hash)!)
  },

  list_shard_holders(hdk, collection) {
    return linkedRecords<ShardHolder>(
      hdk,
      decodeHashB64(collection, 'action'),
      'CollectionToHolders',
      'ShardHolder',
    ).filter((h) => h.entry.collection === collection && h.entry.holder === h.author)
  },

  publish_snapshot(hdk, snapshot) {
    const hash = hdk.create_entry('ShardSnapshot', snapshot)
    hdk.create_link(shardAnchor(hdk, snapshot.collection, snapshot.shard), hash, 'ShardToSnapshots')
    return toRecordRef(hdk.get(hash)!)
  },

  /** The snapshot taken last (by `taken_at`, then by when it was written). */
  get_latest_snapshot(hdk, { collection, shard }) {
    const snapshots = linkedRecords<ShardSnapshot>(
      hdk,
      shardAnchor(hdk, collection, shard),
      'ShardToSnapshots',
      'ShardSnapshot',
    ).filter((s) => s.entry.collection === collection && s.entry.shard === shard)
    let latest = snapshots[0] ?? null
    for (const s of snapshots) {
      if (latest === null || s.entry.taken_at > latest.entry.taken_at) latest = s
      else if (s.entry.taken_at === latest.entry.taken_at && s.timestamp >= latest.timestamp) latest = s
    }
    return latest
  },
}
