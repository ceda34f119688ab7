/** memory_shards: a vector memory spread over the mesh, shard by shard. */
import { z } from 'zod'
import {
  ActionHashB64Schema,
  AgentPubKeyB64Schema,
  CidSchema,
  entryRecord,
  int,
  LIMITS,
  ModelNameSchema,
  NoInputSchema,
  RecordRefSchema,
  SlugSchema,
  TimestampSchema,
} from './common.ts'

const C = LIMITS.collection

export const MetricSchema = z.enum(['cosine', 'l2', 'ip'])
export type Metric = z.infer<typeof MetricSchema>

export const CollectionSchema = z.strictObject({
  name: SlugSchema(C.name),
  dimension: int(C.dimension),
  metric: MetricSchema,
  shard_count: int(C.shard_count),
  replication: int(C.replication),
  embedding_model: ModelNameSchema,
})
export type Collection = z.infer<typeof CollectionSchema>

/** Index of a shard; below the collection's shard_count (rule checked against the Collection). */
export const ShardIndexSchema = int(C.shard_index)

/** `holder` (its author) holds shard `shard` of `collection`. */
export const ShardHolderSchema = z.strictObject({
  collection: ActionHashB64Schema,
  shard: ShardIndexSchema,
  holder: AgentPubKeyB64Schema,
})
export type ShardHolder = z.infer<typeof ShardHolderSchema>

/** The CID of a shard's contents at `taken_at`, so a new holder can catch up. */
export const ShardSnapshotSchema = z.strictObject({
  collection: ActionHashB64Schema,
  shard: ShardIndexSchema,
  cid: CidSchema,
  doc_count: int(LIMITS.shard_snapshot.doc_count),
  taken_at: TimestampSchema,
})
export type ShardSnapshot = z.infer<typeof ShardSnapshotSchema>

export const memoryShards = {
  entryTypes: {
    Collection: CollectionSchema,
    ShardHolder: ShardHolderSchema,
    ShardSnapshot: ShardSnapshotSchema,
  },
  linkTypes: ['AllCollections', 'CollectionToHolders', 'ShardToSnapshots'],
  functions: {
    create_collection: { input: CollectionSchema, output: RecordRefSchema },
    list_collections: { input: NoInputSchema, output: z.array(entryRecord(CollectionSchema)) },
    announce_shard_holder: { input: ShardHolderSchema, output: RecordRefSchema },
    /** By the collection's action hash. */
    list_shard_holders: { input: ActionHashB64Schema, output: z.array(entryRecord(ShardHolderSchema)) },
    publish_snapshot: { input: ShardSnapshotSchema, output: RecordRefSchema },
    get_latest_snapshot: {
      input: z.object({ collection: ActionHashB64Schema, shard: ShardIndexSchema }),
      output: entryRecord(ShardSnapshotSchema).nullable(),
    },
  },
} as const
