/**
 * GET /api/usage?since=<unix ms>[&mesh=1][&by=session]: this peer's usage from the leaves it signed
 * (host/usage/), with `mesh=1` what each online peer signed about this member, and with `by=session`
 * its own requests summed by agent session.
 */
import type { FastifyInstance } from 'fastify'
import type { MeshUsagePort } from '../../usage/mesh-usage-port.ts'
import { sessionTotals } from '../../usage/session-usage.ts'
import type { UsagePort } from '../../usage/usage-port.ts'
import { API_STATUS } from '../api-status.ts'
import { routes } from '../contract/index.ts'
import { sendError, sendInvalidPayload } from '../error-reply.ts'

export function registerUsageRoute(
  app: FastifyInstance,
  agent: () => string,
  usage: Pick<UsagePort, 'rows'>,
  mesh: Pick<MeshUsagePort, 'ask'> | null,
): void {
  const route = routes.usage
  app.get(route.path, async (request, reply) => {
    const query = route.query.safeParse(request.query)
    if (!query.success) return sendInvalidPayload(reply, 'invalid since, mesh or by', query.error)
    const { since, mesh: askMesh, by } = query.data
    if (askMesh && mesh === null)
      return sendError(
        reply,
        API_STATUS.unavailable,
        'UnavailableError',
        'this backend reaches no peer directly',
      )
    const rows = usage.rows(since)
    return {
      agent: agent(),
      rows,
      ...(by === 'session' && { sessions: sessionTotals(rows) }),
      ...(askMesh && mesh && { mesh: await mesh.ask(since ?? 0) }),
    }
  })
}
