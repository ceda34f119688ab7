/**
 * What a memory write or query must be to be kept: checked whole before anything is sent or stored,
 * so a bad document refuses the whole batch and nothing is half-written. Holders check what peers
 * send them the same way.
 */
import { z } from 'zod'
import type { Collection } from '../../zomes-bindings/index.ts'
import { InvalidMemoryInputError } from './memory-errors.ts'
import type { Metadata, MetadataFilter } from './shard-store.ts'

export const MEMORY_LIMITS = {
  id: 256,
  /** Bytes of a document's metadata as JSON. */
  metadataBytes: 4096,
  metadataKeys: 32,
  metadataKey: 64,
  k: 1000,
  /** Documents in one upsert request. */
  batch: 10_000,
} as const

const MetadataValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()])
export const MetadataSchema = z.record(z.string().min(1).max(MEMORY_LIMITS.metadataKey), MetadataValueSchema)

/** One document of an upsert: a vector, or a text the collection's model embeds. */
export const MemoryDocSchema = z
  .strictObject({
    id: z.string().min(1).max(MEMORY_LIMITS.id),
    vector: z.array(z.number()).optional(),
    text: z.string().min(1).max(32_768).optional(),
    metadata: MetadataSchema.default({}),
  })
  .refine((d) => (d.vector === undefined) !== (d.text === undefined), {
    message: 'give exactly one of vector and text',
    path: ['vector'],
  })
export type MemoryDoc = z.input<typeof MemoryDocSchema>

export const MemoryQuerySchema = z
  .strictObject({
    vector: z.array(z.number()).optional(),
    text: z.string().min(1).max(32_768).optional(),
    k: z.number().int().min(1).max(MEMORY_LIMITS.k).default(10),
    filter: MetadataSchema.default({}),
  })
  .refine((q) => (q.vector === undefined) !== (q.text === undefined), {
    message: 'give exactly one of vector and text',
    path: ['vector'],
  })
export type MemoryQuery = z.input<typeof MemoryQuerySchema>

/** `vector` as float32 of the collection's dimension, every number finite; else the field at fault. */
export function checkVector(collection: Collection, vector: readonly number[], field: string): Float32Array {
  if (vector.length !== collection.dimension) {
    throw new InvalidMemoryInputError(
      field,
      `has ${vector.length} numbers; collection "${collection.name}" has dimension ${collection.dimension}`,
    )
  }
  const out = Float32Array.from(vector)
  const bad = out.findIndex((x) => !Number.isFinite(x))
  if (bad >= 0) throw new InvalidMemoryInputError(`${field}.${bad}`, `${vector[bad]} is not a finite float32`)
  if (collection.metric === 'cosine' && out.every((x) => x === 0)) {
    throw new InvalidMemoryInputError(field, 'a zero vector has no direction for the cosine metric')
  }
  return out
}

/** Metadata within its limits (size as JSON, key count), else the field at fault. */
export function checkMetadata(metadata: Metadata | MetadataFilter, field: string): Metadata {
  const keys = Object.keys(metadata)
  if (keys.length > MEMORY_LIMITS.metadataKeys) {
    throw new InvalidMemoryInputError(field, `has ${keys.length} keys; at most ${MEMORY_LIMITS.metadataKeys}`)
  }
  const bytes = new TextEncoder().encode(JSON.stringify(metadata)).length
  if (bytes > MEMORY_LIMITS.metadataBytes) {
    throw new InvalidMemoryInputError(
      field,
      `is ${bytes} bytes as JSON; at most ${MEMORY_LIMITS.metadataBytes}`,
    )
  }
  for (const key of keys) {
    const value = metadata[key]
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new InvalidMemoryInputError(`${field}.${key}`, `${value} is not a finite number`)
    }
  }
  return metadata
}

/** Parses with `schema`, throwing the first issue as an InvalidMemoryInputError on `prefix.path`. */
export function parseMemoryInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix: string,
): z.output<S> {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  const field = [prefix, ...(issue?.path ?? [])].filter((p) => p !== '').join('.')
  throw new InvalidMemoryInputError(field, issue?.message ?? 'invalid')
}
