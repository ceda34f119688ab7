/** What the rest of the node asks of the shared memory: its collections, their writes and queries (the API's). */
import type { Startable } from '../interface/startable.ts'
import type { MemoryDoc, MemoryQuery } from './memory-input.ts'
import type { CollectionDetail, CollectionView, QueryResult, WriteResult } from './memory-views.ts'
import type { WriteOptions } from './memory-writes.ts'

export interface MemoryPort extends Startable {
  /** `input` is checked here (the API hands it on as it came). */
  create(input: unknown): Promise<CollectionView>
  list(): Promise<CollectionView[]>
  /** A collection and where each of its shards is. */
  show(name: string): Promise<CollectionDetail>
  upsert(name: string, docs: readonly MemoryDoc[], options?: WriteOptions): Promise<WriteResult>
  delete(name: string, ids: readonly string[], options?: WriteOptions): Promise<WriteResult>
  query(name: string, input: MemoryQuery, options?: { signal?: AbortSignal }): Promise<QueryResult>
}
