/**
 * GET /api/records/:hash/wait?timeout_ms=N: answers once this peer holds the action (written here or
 * received and verified), or when the time runs out: `{ stored: true | false, waited_ms }`.
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { ActionHashB64Schema } from '../../../zomes-bindings/index.ts'
import { sendInvalidPayload } from '../error-reply.ts'

const MAX_WAIT_MS = 60_000
const ParamsSchema = z.object({ hash: ActionHashB64Schema })
const QuerySchema = z.object({ timeout_ms: z.coerce.number().int().min(0).max(MAX_WAIT_MS).default(10_000) })

export type ActionWaiter = (actionHash: string, timeoutMs: number) => Promise<boolean>

export function registerWaitRoute(app: FastifyInstance, wait: ActionWaiter): void {
  app.get('/api/records/:hash/wait', async (request, reply) => {
    const params = ParamsSchema.safeParse(request.params)
    if (!params.success) return sendInvalidPayload(reply, 'invalid action hash', params.error)
    const query = QuerySchema.safeParse(request.query)
    if (!query.success) return sendInvalidPayload(reply, 'invalid timeout_ms', query.error)
    const started = performance.now()
    const stored = await wait(params.data.hash, query.data.timeout_ms)
    return { stored, waited_ms: Math.round(performance.now() - started) }
  })
}
