/**
 * Where the directory keeps a model's runners: one Kademlia key per shard of the model, so the 20 peers
 * closest to a key hold only the runners of that shard, not every runner of a popular model. A runner
 * advertises under its own shard (its peer id's hash mod the shard count, the same every time, so a
 * re-advert replaces its record); a finder reads a few shards at random and the rest only when those
 * named too few runners (a rare model: all of them). Pure: the directory and the simulation both plan
 * with it.
 */
import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'

/** Shards per model: a popular model's runners spread over this many groups of 20 holders. */
export const MODEL_SHARDS = 8
/** Shards a finder reads first; more only when these named fewer runners than it wants. */
export const FIRST_READ_SHARDS = 2

const RAW_CODEC = 0x55
const SHA2_256 = 0x12

const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest())

/** The key of one shard of `model` in the network `networkTag` (network-identity.ts). */
export function modelShardKey(networkTag: string, model: string, shard: number): CID {
  return CID.createV1(RAW_CODEC, createDigest(SHA2_256, sha256(`${networkTag}/model/${model}#${shard}`)))
}

/** The shard a runner advertises under: fixed by its peer id. */
export function shardOf(peer: string, shards = MODEL_SHARDS): number {
  return new DataView(sha256(peer).buffer).getUint32(0) % shards
}

/**
 * The shards a finder reads, in rounds: first `FIRST_READ_SHARDS` picked by `random` (so finders spread
 * over the holders), then the others together. With `shards <= FIRST_READ_SHARDS`, one round of all.
 */
export function shardRounds(shards = MODEL_SHARDS, random: () => number = Math.random): number[][] {
  const order = Array.from({ length: shards }, (_, i) => i)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  const first = order.slice(0, FIRST_READ_SHARDS)
  const rest = order.slice(FIRST_READ_SHARDS)
  return rest.length === 0 ? [first] : [first, rest]
}
