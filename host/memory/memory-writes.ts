/**
 * The writes of a collection: a batch is checked whole first (nothing is sent when one document is
 * wrong), its texts embedded, a delete kept as a tombstone; then each write goes to every holder of
 * its shard, a chunk at a time (`chunkWrites`), and the answer says per shard how many holders took
 * them all. A shard that no holder took fails the request.
 */
import type { Collection, EntryRecord } from '../../zomes-bindings/index.ts'
import type { LongOperationOptions } from '../interface/progress.ts'
import type { Logger } from '../log/logger.ts'
import { InvalidMemoryInputError, ShardUnavailableError } from './memory-errors.ts'
import {
  checkMetadata,
  checkVector,
  MEMORY_LIMITS,
  type MemoryDoc,
  MemoryDocSchema,
  parseMemoryInput,
} from './memory-input.ts'
import { chunkWrites } from './memory-plan.ts'
import type { AskHolder } from './memory-rpc.ts'
import type { WriteResult } from './memory-views.ts'
import { type MemoryRequest, toWire } from './memory-wire.ts'
import type { ShardPlacement } from './shard-placement.ts'
import type { DocWrite } from './shard-store.ts'
import type { TextEmbedding } from './text-embedding.ts'

/** Progress counts the documents written (`write`, in items). */
export type WriteOptions = LongOperationOptions

export interface MemoryWritesInit {
  placement: ShardPlacement
  embedding: TextEmbedding
  ask: AskHolder
  logger: Logger
}

export class MemoryWrites {
  readonly #init: MemoryWritesInit

  constructor(init: MemoryWritesInit) {
    this.#init = init
  }

  async upsert(
    record: EntryRecord<Collection>,
    docs: readonly MemoryDoc[],
    options: WriteOptions,
  ): Promise<WriteResult> {
    const collection = record.entry
    if (docs.length === 0) throw new InvalidMemoryInputError('docs', 'give at least one document')
    if (docs.length > MEMORY_LIMITS.batch) {
      throw new InvalidMemoryInputError(
        'docs',
        `${docs.length} documents; at most ${MEMORY_LIMITS.batch} a request`,
      )
    }
    const parsed = docs.map((d, i) => parseMemoryInput(MemoryDocSchema, d, `docs.${i}`))
    const now = Date.now()
    const vectors = parsed.map((d, i) => {
      checkMetadata(d.metadata, `docs.${i}.metadata`)
      return d.vector === undefined ? null : checkVector(collection, d.vector, `docs.${i}.vector`)
    })
    const texts = parsed.flatMap((d, i) => (d.text === undefined ? [] : [{ i, text: d.text }]))
    if (texts.length > 0) {
      const embedded = await this.#init.embedding.embed(
        record,
        texts.map((t) => t.text),
        'text',
        options.signal,
      )
      for (const [j, { i }] of texts.entries())
        vectors[i] = checkVector(collection, embedded[j] ?? [], `docs.${i}.text`)
    }
    return this.#send(
      record,
      parsed.map((d, i) => ({ id: d.id, vector: vectors[i] ?? null, metadata: d.metadata, updated_at: now })),
      options,
    )
  }

  async delete(
    record: EntryRecord<Collection>,
    ids: readonly string[],
    options: WriteOptions,
  ): Promise<WriteResult> {
    if (ids.length === 0) throw new InvalidMemoryInputError('ids', 'give at least one id')
    for (const [i, id] of ids.entries()) {
      if (typeof id !== 'string' || id.length === 0 || id.length > MEMORY_LIMITS.id) {
        throw new InvalidMemoryInputError(`ids.${i}`, `an id is 1 to ${MEMORY_LIMITS.id} characters`)
      }
    }
    const now = Date.now()
    return this.#send(
      record,
      ids.map((id) => ({ id, vector: null, metadata: {}, updated_at: now })),
      options,
    )
  }

  async #send(
    record: EntryRecord<Collection>,
    writes: readonly DocWrite[],
    options: WriteOptions,
  ): Promise<WriteResult> {
    const { shard_count, dimension } = record.entry
    const placement = await this.#init.placement.of(record.action_hash)
    let done = 0
    const shards = await Promise.all(
      chunkWrites(writes, shard_count, dimension).map(async ({ shard, chunks }) => {
        const holders = placement[shard] ?? []
        if (holders.length === 0)
          throw new ShardUnavailableError(shard, 'no live peer has memory room for it')
        let written = holders.length
        for (const chunk of chunks) {
          options.signal?.throwIfAborted()
          const request: MemoryRequest = {
            op: 'apply',
            collection: record.action_hash,
            shard,
            writes: chunk.map(toWire),
          }
          const acks = await Promise.allSettled(
            holders.map((agent) => this.#init.ask(agent, request, options.signal)),
          )
          const failed = acks.filter((a) => a.status === 'rejected')
          for (const f of failed)
            this.#init.logger.warn({ err: f.reason, shard }, 'a memory holder did not take a write')
          written = Math.min(written, acks.length - failed.length)
          if (written === 0)
            throw new ShardUnavailableError(shard, String((failed[0] as PromiseRejectedResult).reason))
          done += chunk.length
          options.onProgress?.({ stage: 'write', done, total: writes.length, unit: 'items' })
        }
        return { shard, holders: holders.length, written }
      }),
    )
    return { written: writes.length, shards }
  }
}
