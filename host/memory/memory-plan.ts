/**
 * The pure decisions of the shared memory: which shard an id lives in, which peers hold each shard
 * (rendezvous hashing over the live peers that advertise memory capacity and have room, so a join or
 * a leave moves only the shards whose top `replication` changed), which holder answers each shard of
 * a query (the least loaded ready one, the others as fallbacks), and the merge of the shards' answers
 * into the top k; and how a batch of writes is split into requests to each shard's holders.
 */
import { createHash } from 'node:crypto'
import { rendezvousOrder } from '../interface/rendezvous.ts'

/** The shard of `id`: the first 4 bytes of sha256(id), modulo the shard count. */
export function shardOf(id: string, shardCount: number): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) % shardCount
}

/** The rendezvous key of a shard: the collection's action hash and the shard index. */
export const shardKey = (collection: string, shard: number): string => `${collection}/${shard}`

/** A live peer that advertises memory capacity: the bytes its operator lets shards use there. */
export interface CapacityPeer {
  agent: string
  capacity: number
}

/** A collection to place: its key (action hash), shape, and each shard's size as far as the mesh knows it. */
export interface ShardDemand {
  collection: string
  replication: number
  /** Per shard, its estimated bytes (0 for a shard nobody snapshotted yet). */
  shardBytes: readonly number[]
}

/** Bytes one document takes on a holder: its vector in SQLite and in the index, links, id and metadata. */
export const docBytes = (dimension: number): number => dimension * 8 + 512

/**
 * Per collection, per shard, the peers that hold it: the first `replication` peers in the shard's
 * rendezvous order that advertise capacity and still have room for it (fewer when fewer do; none when
 * none do). Collections are taken in the order given (oldest first), so a new collection never moves
 * the shards of an older one; a join or a leave moves only the shards whose top `replication` changed,
 * as long as the peers have room.
 */
export function placeCollections(
  demands: readonly ShardDemand[],
  peers: readonly CapacityPeer[],
): Map<string, string[][]> {
  const room = new Map(peers.filter((p) => p.capacity > 0).map((p) => [p.agent, p.capacity]))
  const able = [...room.keys()]
  const placed = new Map<string, string[][]>()
  for (const { collection, replication, shardBytes } of demands) {
    placed.set(
      collection,
      shardBytes.map((bytes, shard) => {
        const holders: string[] = []
        for (const agent of rendezvousOrder(shardKey(collection, shard), able)) {
          if (holders.length === replication) break
          const left = room.get(agent) ?? 0
          if (left <= 0 || left < bytes) continue
          room.set(agent, left - bytes)
          holders.push(agent)
        }
        return holders
      }),
    )
  }
  return placed
}

/** What one write request to a holder carries at most on the wire (a request is answered whole). */
export const CHUNK_BYTES = 2 * 1024 * 1024

/** Bytes one write takes on the wire: its float32s, its id, metadata and framing. */
const wireBytes = (dimension: number): number => dimension * 4 + 512

export interface ShardWrites<W> {
  shard: number
  /** The shard's writes in the order given, in requests of at most CHUNK_BYTES each. */
  chunks: W[][]
}

/** The writes of a batch by shard (shards in order), each shard's in chunks to send one at a time. */
export function chunkWrites<W extends { id: string }>(
  writes: readonly W[],
  shardCount: number,
  dimension: number,
): ShardWrites<W>[] {
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / wireBytes(dimension)))
  const byShard = new Map<number, W[]>()
  for (const w of writes) {
    const shard = shardOf(w.id, shardCount)
    const held = byShard.get(shard)
    if (held) held.push(w)
    else byShard.set(shard, [w])
  }
  return [...byShard.entries()]
    .sort(([a], [b]) => a - b)
    .map(([shard, list]) => ({
      shard,
      chunks: Array.from({ length: Math.ceil(list.length / perChunk) }, (_, i) =>
        list.slice(i * perChunk, (i + 1) * perChunk),
      ),
    }))
}

/** The shards `agent` holds under `placement`. */
export function shardsOf(placement: readonly (readonly string[])[], agent: string): number[] {
  return placement.flatMap((holders, shard) => (holders.includes(agent) ? [shard] : []))
}

export interface QueryRoute {
  shard: number
  /** Who to ask, in order: the least loaded first; the rest answer if it fails. Empty: nobody can. */
  holders: string[]
}

/**
 * Per shard, its holders that can answer (`ready`: live and caught up), least loaded first, ties by
 * rendezvous order so equal peers share the queries.
 */
export function planQuery(
  collection: string,
  placement: readonly (readonly string[])[],
  ready: (agent: string, shard: number) => boolean,
  load: (agent: string) => number,
): QueryRoute[] {
  return placement.map((holders, shard) => {
    const able = holders.filter((agent) => ready(agent, shard))
    const order = rendezvousOrder(shardKey(collection, shard), able)
    // Compared, not subtracted: a load may be Infinity (a holder to ask last).
    return { shard, holders: order.sort((a, b) => Math.sign(load(a) - load(b)) || 0) }
  })
}

export interface Hit {
  id: string
  distance: number
}

/** The `k` nearest of several shards' answers (each sorted or not), nearest first, ids unique. */
export function mergeTopK<H extends Hit>(answers: readonly (readonly H[])[], k: number): H[] {
  const best = new Map<string, H>()
  for (const hits of answers)
    for (const hit of hits) {
      const held = best.get(hit.id)
      if (held === undefined || hit.distance < held.distance) best.set(hit.id, hit)
    }
  return [...best.values()].sort((a, b) => a.distance - b.distance || (a.id < b.id ? -1 : 1)).slice(0, k)
}
