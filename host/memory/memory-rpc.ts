/**
 * How memory peers talk (`memory-wire.ts` over the transport): this peer asks a shard's holder
 * (itself directly, without the network), and answers what peers ask about the shards it holds:
 * writes to apply, a query, pages of writes, bucket digests. A request for a shard placement gives
 * this peer, not ready here yet, goes through `prepare` first (a new shard is ready at once).
 */

import { type CollectionCatalog, knownOf } from './collection-catalog.ts'
import { ShardNotReadyError, UnknownCollectionError } from './memory-errors.ts'
import { checkMetadata, checkVector } from './memory-input.ts'
import type { MemoryTransport } from './memory-transport.ts'
import {
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  floatsOf,
  fromWire,
  type MemoryReply,
  type MemoryRequest,
} from './memory-wire.ts'
import type { KnownCollection, ShardHoldings } from './shard-holdings.ts'

/** Asks a holder of a shard; rejects when it cannot answer (unreachable, not ready, past `timeoutMs`). */
export type AskHolder = (
  agent: string,
  request: MemoryRequest,
  signal?: AbortSignal,
  timeoutMs?: number,
) => Promise<MemoryReply>

export interface MemoryRpcInit {
  me: string
  transport: MemoryTransport
  catalog: CollectionCatalog
  holdings: ShardHoldings
  /** Gets a shard this peer should hold ready when it can be, before a request about it is answered. */
  prepare: (known: KnownCollection, shard: number) => Promise<void>
}

export class MemoryRpc {
  readonly #init: MemoryRpcInit

  constructor(init: MemoryRpcInit) {
    this.#init = init
  }

  /** Starts answering peers. */
  listen(): Promise<void> {
    return this.#init.transport.serve(async (bytes) => encodeReply(await this.#serve(decodeRequest(bytes))))
  }

  stop(): Promise<void> {
    return this.#init.transport.stop()
  }

  readonly ask: AskHolder = async (agent, request, signal, timeoutMs) => {
    if (agent === this.#init.me) return this.#serve(request)
    return decodeReply(
      await this.#init.transport.request(agent, encodeRequest(request), { signal, timeoutMs }),
    )
  }

  /** Everything a peer sends is checked against its collection as the API checks a caller's. */
  async #serve(request: MemoryRequest): Promise<MemoryReply> {
    const { holdings } = this.#init
    const record = await this.#init.catalog.byHash(request.collection)
    if (record === null) throw new UnknownCollectionError(request.collection)
    const known = knownOf(record)
    const { shard } = request
    if (shard >= known.collection.shard_count) throw new ShardNotReadyError(known.hash, shard)
    await this.#init.prepare(known, shard)
    if (request.op === 'apply')
      return { op: 'apply', applied: holdings.apply(known, shard, request.writes.map(fromWire)) }
    const held = holdings.get(known.hash, shard)
    if (!held?.ready) throw new ShardNotReadyError(known.hash, shard)
    if (request.op === 'query') {
      const vector = checkVector(known.collection, Array.from(floatsOf(request.vector)), 'vector')
      return {
        op: 'query',
        hits: held.store.query(vector, request.k, checkMetadata(request.filter, 'filter')),
      }
    }
    if (request.op === 'digests')
      return { op: 'digests', digests: held.store.digests(request.level, request.from, request.to) }
    return {
      op: 'changes',
      writes: held.store.changesAfter(request.after, request.limit, request.before),
    }
  }
}
