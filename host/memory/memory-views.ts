/**
 * What the shared memory answers, as zod schemas: the API's route contract and the typed client use
 * them, and the service's types are inferred from them.
 */
import { z } from 'zod'
import { ActionHashB64Schema, AgentPubKeyB64Schema, CollectionSchema } from '../../zomes-bindings/index.ts'
import { MetadataSchema } from './memory-input.ts'

export const CollectionViewSchema = z.object({
  name: z.string(),
  action_hash: ActionHashB64Schema,
  author: AgentPubKeyB64Schema,
  created_at: z.number(),
  collection: CollectionSchema,
})
export type CollectionView = z.infer<typeof CollectionViewSchema>

export const ShardViewSchema = z.object({
  shard: z.number().int(),
  /** Where placement puts it now (live peers that serve memory). */
  holders: z.array(AgentPubKeyB64Schema),
  /** Agents that announced holding it (a ShardHolder entry). */
  announced: z.array(AgentPubKeyB64Schema),
  /** This peer's copy, when it holds one; `digest` is equal on replicas that hold the same writes. */
  here: z.object({ ready: z.boolean(), docs: z.number().int(), digest: z.string() }).nullable(),
})
export type ShardView = z.infer<typeof ShardViewSchema>

export const CollectionDetailSchema = CollectionViewSchema.extend({ shards: z.array(ShardViewSchema) })
export type CollectionDetail = z.infer<typeof CollectionDetailSchema>

export const WriteResultSchema = z.object({
  /** Documents written (upserted or deleted). */
  written: z.number().int(),
  /** Per shard written to: how many holders it has, and how many took every write. */
  shards: z.array(
    z.object({ shard: z.number().int(), holders: z.number().int(), written: z.number().int() }),
  ),
})
export type WriteResult = z.infer<typeof WriteResultSchema>

export const QueryHitSchema = z.object({
  id: z.string(),
  distance: z.number(),
  metadata: MetadataSchema,
  shard: z.number().int(),
})
export type QueryHit = z.infer<typeof QueryHitSchema>

export const QueryResultSchema = z.object({
  hits: z.array(QueryHitSchema),
  shards_answered: z.array(z.number().int()),
  /** Shards no holder answered for: the hits may lack their documents. */
  shards_missing: z.array(z.number().int()),
})
export type QueryResult = z.infer<typeof QueryResultSchema>
