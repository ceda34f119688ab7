/**
 * The pure decisions of the shared memory: which shard an id lives in, which peers hold each shard
 * (rendezvous hashing over the live peers that serve memory, so a join or a leave moves only the
 * shards whose top `replication` changed), which holder answers each shard of a query (the least
 * loaded ready one, the others as fallbacks), and the merge of the shards' answers into the top k.
 */
import { createHash } from 'node:crypto'
import { rendezvousFirst } from '../scheduler/claim-ranking.ts'

/** The shard of `id`: the first 4 bytes of sha256(id), modulo the shard count. */
export function shardOf(id: string, shardCount: number): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) % shardCount
}

/** The rendezvous key of a shard: the collection's action hash and the shard index. */
export const shardKey = (collection: string, shard: number): string => `${collection}/${shard}`

/** Per shard, the `replication` peers of `peers` that hold it (fewer when fewer peers serve memory). */
export function placeShards(
  collection: string,
  shardCount: number,
  replication: number,
  peers: readonly string[],
): string[][] {
  return Array.from({ length: shardCount }, (_, shard) =>
    rendezvousFirst(shardKey(collection, shard), peers, replication),
  )
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
    const order = rendezvousFirst(shardKey(collection, shard), able, able.length)
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
