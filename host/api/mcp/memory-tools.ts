/**
 * The shared memory as tools: list the collections, search one by meaning (a text, which the
 * collection's model embeds, or a vector), and upsert documents into it. Answers say which shards
 * answered and which are missing, so an agent knows when results may be incomplete.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import { CollectionSchema } from '../../../zomes-bindings/index.ts'
import { MEMORY_LIMITS, MemoryDocSchema, MetadataSchema } from '../../memory/memory-input.ts'
import type { ApiClient } from '../client/index.ts'
import { jsonResult } from './tool-reply.ts'

const CollectionArgSchema = CollectionSchema.shape.name.describe('the collection name')

export function registerMemoryTools(server: McpServer, api: ApiClient): void {
  server.registerTool(
    'memory_collections',
    {
      title: 'List memory collections',
      description:
        'The collections of the shared vector memory: name, dimension, metric, shard count, replication, and the embedding model that turns texts into vectors ("none": vectors only).',
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (extra) => {
      const { collections } = await api.listCollections({ signal: extra.signal })
      return jsonResult({ collections: collections.map((c) => c.collection) })
    },
  )

  server.registerTool(
    'memory_search',
    {
      title: 'Search the memory',
      description:
        'The k documents of a collection nearest to a text (embedded with the collection’s model) or a vector, over every shard of the mesh, optionally only those whose metadata matches `filter`. Answers the hits (id, distance, metadata) and which shards answered or are missing.',
      inputSchema: {
        collection: CollectionArgSchema,
        text: z.string().min(1).optional().describe('what to search for, in words (one of text or vector)'),
        vector: z.array(z.number()).optional().describe('a vector of the collection’s dimension'),
        k: z.number().int().min(1).max(MEMORY_LIMITS.k).default(10).describe('how many hits'),
        filter: MetadataSchema.default({}).describe('metadata every hit must have, e.g. {"lang": "en"}'),
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async ({ collection, text, vector, k, filter }, extra) => {
      const answer = await api.queryCollection(
        collection,
        { text, vector, k, filter },
        { signal: extra.signal },
      )
      return jsonResult(answer)
    },
  )

  server.registerTool(
    'memory_upsert',
    {
      title: 'Remember documents',
      description: `Add or replace documents in a collection (at most ${MEMORY_LIMITS.batch} a call): each an id, a text (embedded with the collection's model) or a vector, and metadata. Every document is checked first; if one is wrong, none is written. Each is kept on every holder of its shard.`,
      inputSchema: {
        collection: CollectionArgSchema,
        docs: z.array(MemoryDocSchema).min(1).max(MEMORY_LIMITS.batch),
      },
      annotations: { destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async ({ collection, docs }, extra) =>
      jsonResult(await api.upsertDocs(collection, docs, { signal: extra.signal })),
  )
}
