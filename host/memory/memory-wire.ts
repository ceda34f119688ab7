/**
 * What memory peers say to each other (msgpack over the request/response protocol `memory/1.0.0`):
 * writes to a shard's holders, a query of one shard, pages of a shard's writes for a holder that
 * catches up or repairs, and a shard's bucket digests (what replica repair compares). Vectors travel as float32 bytes. Everything a peer receives is parsed here and checked
 * against its collection before it is stored.
 */
import { encode } from '@msgpack/msgpack'
import { z } from 'zod'
import { decodeMsgpack } from '../identity/canonical.ts'
import { MetadataSchema } from './memory-input.ts'
import { type BucketDigest, REPAIR_SHIFTS } from './repair-plan.ts'
import type { DocWrite, ShardHit } from './shard-store.ts'

export const MEMORY_PROTOCOL = 'memory/1.0.0'

const WireWriteSchema = z.strictObject({
  id: z.string().min(1).max(256),
  vector: z.instanceof(Uint8Array).nullable(),
  metadata: MetadataSchema,
  updated_at: z.number().int().min(0),
})
type WireWrite = z.infer<typeof WireWriteSchema>

const ShardAddressSchema = { collection: z.string().min(1), shard: z.number().int().min(0) }

export const MemoryRequestSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('apply'), ...ShardAddressSchema, writes: z.array(WireWriteSchema) }),
  z.strictObject({
    op: z.literal('query'),
    ...ShardAddressSchema,
    vector: z.instanceof(Uint8Array),
    k: z.number().int().min(1).max(1000),
    filter: MetadataSchema,
  }),
  z.strictObject({
    op: z.literal('changes'),
    ...ShardAddressSchema,
    after: z.strictObject({ updated_at: z.number().int().min(0), id: z.string() }),
    limit: z.number().int().min(1).max(5000),
    /** Only writes made before this (a repair pulls one time range). */
    before: z.number().int().min(0).optional(),
  }),
  z.strictObject({
    op: z.literal('digests'),
    ...ShardAddressSchema,
    level: z
      .number()
      .int()
      .min(0)
      .max(REPAIR_SHIFTS.length - 1),
    from: z.number().int().min(0),
    to: z.number().int().min(0),
  }),
])
export type MemoryRequest = z.infer<typeof MemoryRequestSchema>

export type MemoryReply =
  | { op: 'apply'; applied: number }
  | { op: 'query'; hits: ShardHit[] }
  | { op: 'changes'; writes: DocWrite[] }
  | { op: 'digests'; digests: BucketDigest[] }

export function toWire(w: DocWrite): WireWrite {
  return {
    ...w,
    vector:
      w.vector && new Uint8Array(w.vector.buffer as ArrayBuffer, w.vector.byteOffset, w.vector.byteLength),
  }
}

export function fromWire(w: WireWrite): DocWrite {
  return { ...w, vector: w.vector && floatsOf(w.vector) }
}

/**
 * The float32s of `bytes`, copied: msgpack's views need not be 4-byte aligned, and a Node Buffer's
 * `slice` is a view into a shared pool, so `new Uint8Array(bytes)` makes the copy.
 */
export function floatsOf(bytes: Uint8Array): Float32Array {
  return new Float32Array(new Uint8Array(bytes).buffer, 0, Math.floor(bytes.byteLength / 4))
}

export function encodeRequest(request: MemoryRequest): Uint8Array {
  return encode(request)
}

export function decodeRequest(bytes: Uint8Array): MemoryRequest {
  return MemoryRequestSchema.parse(decodeMsgpack(bytes))
}

export function encodeReply(reply: MemoryReply): Uint8Array {
  return encode(reply.op === 'changes' ? { ...reply, writes: reply.writes.map(toWire) } : reply)
}

const ReplySchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('apply'), applied: z.number().int().min(0) }),
  z.strictObject({
    op: z.literal('query'),
    hits: z.array(z.strictObject({ id: z.string(), distance: z.number(), metadata: MetadataSchema })),
  }),
  z.strictObject({ op: z.literal('changes'), writes: z.array(WireWriteSchema) }),
  z.strictObject({
    op: z.literal('digests'),
    digests: z.array(
      z.strictObject({
        bucket: z.number().int().min(0),
        count: z.number().int().min(1),
        digest: z.string().regex(/^[0-9a-f]{16}$/),
      }),
    ),
  }),
])

export function decodeReply(bytes: Uint8Array): MemoryReply {
  const reply = ReplySchema.parse(decodeMsgpack(bytes))
  return reply.op === 'changes' ? { op: 'changes', writes: reply.writes.map(fromWire) } : reply
}
