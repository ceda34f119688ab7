/** Policies: GET /api/policies lists the latest version of each; POST /api/policies publishes one (admins only). */
import type { FastifyInstance } from 'fastify'
import type { PoliciesPort } from '../../policy/policies-port.ts'
import { CREATED } from '../api-status.ts'
import { routes } from '../contract/index.ts'
import { sendInvalidPayload } from '../error-reply.ts'

export type PolicyApi = Pick<PoliciesPort, 'list' | 'publish'>

export function registerPolicyRoutes(app: FastifyInstance, policies: PolicyApi): void {
  app.get(routes.listPolicies.path, async () => ({ policies: await policies.list() }))

  app.post(routes.publishPolicy.path, async (request, reply) => {
    const body = routes.publishPolicy.body.safeParse(request.body ?? null)
    if (!body.success) return sendInvalidPayload(reply, 'invalid policy', body.error)
    return reply.code(CREATED).send(await policies.publish(body.data))
  })
}
