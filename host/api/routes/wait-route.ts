/**
 * GET /api/records/:hash/wait?timeout_ms=N: answers once this peer holds the action (written here or
 * received and verified), or when the time runs out: `{ stored: true | false, waited_ms }`.
 */
import type { FastifyInstance } from 'fastify'
import type { ActionWaiter } from '../../interface/network-port.ts'
import { routes } from '../contract/index.ts'
import { sendInvalidPayload } from '../error-reply.ts'

export function registerWaitRoute(app: FastifyInstance, wait: ActionWaiter): void {
  const route = routes.waitForRecord
  app.get(route.path, async (request, reply) => {
    const params = route.params.safeParse(request.params)
    if (!params.success) return sendInvalidPayload(reply, 'invalid action hash', params.error)
    const query = route.query.safeParse(request.query)
    if (!query.success) return sendInvalidPayload(reply, 'invalid timeout_ms', query.error)
    const started = performance.now()
    const stored = await wait(params.data.hash, query.data.timeout_ms)
    return { stored, waited_ms: Math.round(performance.now() - started) }
  })
}
