/** Policies: GET /api/policies lists the latest version of each; POST /api/policies publishes one (admins only). */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { PolicySchema } from '../../../zomes-bindings/index.ts'
import type { PolicyService } from '../../policy/policy-service.ts'
import { sendInvalidPayload } from '../error-reply.ts'

export type PolicyApi = Pick<PolicyService, 'list' | 'publish'>

export const PublishPolicyBodySchema = z.strictObject({
  id: PolicySchema.shape.id,
  text: PolicySchema.shape.text,
  description: PolicySchema.shape.description.optional(),
  /** Default: one above the latest version of this id. */
  version: PolicySchema.shape.version.optional(),
})
export type PublishPolicyBody = z.input<typeof PublishPolicyBodySchema>

export function registerPolicyRoutes(app: FastifyInstance, policies: PolicyApi): void {
  app.get('/api/policies', async () => ({ policies: await policies.list() }))

  app.post('/api/policies', async (request, reply) => {
    const body = PublishPolicyBodySchema.safeParse(request.body ?? null)
    if (!body.success) return sendInvalidPayload(reply, 'invalid policy', body.error)
    return reply.code(201).send(await policies.publish(body.data))
  })
}
