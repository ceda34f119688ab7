/**
 * A query of a collection: one holder per shard is asked (the least loaded first, `planQuery`; the
 * next replica when it fails or is slow) and the shards' answers are merged into the top k, saying
 * which shards answered and which are missing.
 */
import type { Collection, EntryRecord } from '../../zomes-bindings/index.ts'
import type { Logger } from '../log/logger.ts'
import {
  checkMetadata,
  checkVector,
  type MemoryQuery,
  MemoryQuerySchema,
  parseMemoryInput,
} from './memory-input.ts'
import { mergeTopK, planQuery } from './memory-plan.ts'
import type { AskHolder } from './memory-rpc.ts'
import type { QueryHit, QueryResult } from './memory-views.ts'
import type { MemoryRequest } from './memory-wire.ts'
import type { ShardPlacement } from './shard-placement.ts'
import type { TextEmbedding } from './text-embedding.ts'

/** A query waits this long for one holder before asking the next replica. */
const QUERY_TIMEOUT_MS = 3000
/** A holder that failed a query is asked last for this long (it may be gone; the registry says so later). */
const SUSPECT_MS = 30_000

export interface MemoryQueriesInit {
  placement: ShardPlacement
  embedding: TextEmbedding
  ask: AskHolder
  logger: Logger
}

export class MemoryQueries {
  readonly #init: MemoryQueriesInit
  /** Holders that failed a query lately, until when. */
  readonly #suspects = new Map<string, number>()

  constructor(init: MemoryQueriesInit) {
    this.#init = init
  }

  async query(
    record: EntryRecord<Collection>,
    input: MemoryQuery,
    options: { signal?: AbortSignal },
  ): Promise<QueryResult> {
    const q = parseMemoryInput(MemoryQuerySchema, input, '')
    const filter = checkMetadata(q.filter, 'filter')
    const vector =
      q.vector !== undefined
        ? checkVector(record.entry, q.vector, 'vector')
        : checkVector(
            record.entry,
            (await this.#init.embedding.embed(record, [q.text ?? ''], 'text', options.signal))[0] ?? [],
            'text',
          )
    const peers = await this.#init.placement.peers()
    const loads = new Map(peers.map((p) => [p.agent, p.load]))
    const placement = await this.#init.placement.of(record.action_hash, peers)
    // A holder that failed lately is asked last: it may be gone, and the registry says so only later.
    const now = Date.now()
    const load = (a: string) =>
      (this.#suspects.get(a) ?? 0) > now ? Number.POSITIVE_INFINITY : (loads.get(a) ?? 1)
    const bytes = new Uint8Array(vector.buffer as ArrayBuffer, vector.byteOffset, vector.byteLength)
    const answers = await Promise.all(
      planQuery(record.action_hash, placement, () => true, load).map(async ({ shard, holders }) => {
        const request: MemoryRequest = {
          op: 'query',
          collection: record.action_hash,
          shard,
          vector: bytes,
          k: q.k,
          filter,
        }
        return { shard, hits: await this.#askShard(request, holders, options.signal) }
      }),
    )
    return {
      hits: mergeTopK(
        answers.map((a) => a.hits ?? []),
        q.k,
      ),
      shards_answered: answers.filter((a) => a.hits !== null).map((a) => a.shard),
      shards_missing: answers.filter((a) => a.hits === null).map((a) => a.shard),
    }
  }

  /** Asks the holders of one shard in turn until one answers (null: none did). */
  async #askShard(
    request: MemoryRequest & { op: 'query' },
    holders: readonly string[],
    signal?: AbortSignal,
  ): Promise<QueryHit[] | null> {
    const { shard } = request
    for (const agent of holders) {
      try {
        const reply = await this.#init.ask(agent, request, signal, QUERY_TIMEOUT_MS)
        if (reply.op === 'query') return reply.hits.map((h) => ({ ...h, shard }))
      } catch (err) {
        signal?.throwIfAborted()
        // This replica could not answer (gone, not caught up): the next one does.
        this.#suspects.set(agent, Date.now() + SUSPECT_MS)
        this.#init.logger.debug({ err, shard, agent }, 'memory query: a holder failed, trying the next')
      }
    }
    return null
  }
}
