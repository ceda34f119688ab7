/** GET /api/usage?since=<unix ms>: this peer's usage from the leaves it signed (host/usage/). */
import type { FastifyInstance } from 'fastify'
import type { UsageLedger } from '../../usage/usage-ledger.ts'
import { routes } from '../contract/index.ts'
import { sendInvalidPayload } from '../error-reply.ts'

export function registerUsageRoute(
  app: FastifyInstance,
  agent: () => string,
  usage: Pick<UsageLedger, 'rows'>,
): void {
  const route = routes.usage
  app.get(route.path, async (request, reply) => {
    const query = route.query.safeParse(request.query)
    if (!query.success) return sendInvalidPayload(reply, 'invalid since', query.error)
    return { agent: agent(), rows: usage.rows(query.data.since) }
  })
}
