/**
 * The shared memory: collections (create, list, show), upserts, deletes and queries. A body off the
 * contract is a 400 naming the first field at fault (`details.field`), as the service's own checks
 * (dimension, finite numbers, metadata size) are; nothing of such a request is written.
 */
import type { FastifyInstance } from 'fastify'
import type { z } from 'zod'
import { parseMemoryInput } from '../../memory/memory-input.ts'
import type { MemoryPort } from '../../memory/memory-port.ts'
import { CREATED } from '../api-status.ts'
import { routes } from '../contract/index.ts'
import { abortOnClose } from './artifacts-route.ts'

export type MemoryApi = Pick<MemoryPort, 'create' | 'list' | 'show' | 'upsert' | 'delete' | 'query'>

export function registerMemoryRoutes(app: FastifyInstance, memory: MemoryApi): void {
  const name = (params: unknown) => parseMemoryInput(routes.showCollection.params, params, 'collection').name

  app.post(routes.createCollection.path, async (request, reply) => {
    const body = parseMemoryInput(routes.createCollection.body, request.body ?? null, '')
    return reply.code(CREATED).send(await memory.create(body))
  })

  app.get(routes.listCollections.path, async () => ({ collections: await memory.list() }))

  app.get(routes.showCollection.path, async (request) => memory.show(name(request.params)))

  app.post(routes.upsertDocs.path, async (request, reply) => {
    const body = parse(routes.upsertDocs.body, request.body)
    return memory.upsert(name(request.params), body.docs, { signal: abortOnClose(reply) })
  })

  app.post(routes.deleteDocs.path, async (request, reply) => {
    const body = parse(routes.deleteDocs.body, request.body)
    return memory.delete(name(request.params), body.ids, { signal: abortOnClose(reply) })
  })

  app.post(routes.queryCollection.path, async (request, reply) => {
    const body = parse(routes.queryCollection.body, request.body)
    return memory.query(name(request.params), body, { signal: abortOnClose(reply) })
  })
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  return parseMemoryInput(schema, body ?? null, '')
}
