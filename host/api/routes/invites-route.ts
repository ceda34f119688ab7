/**
 * Invites: POST /api/invites writes a signed invite to this peer's private mesh (its admin only);
 * POST /api/revocations revokes an agent or an unused invite (admins only, as the rules judge).
 */
import type { FastifyInstance } from 'fastify'
import type { z } from 'zod'
import type { RecordRef, Revocation } from '../../../zomes-bindings/index.ts'
import type { Invite } from '../../membership/invite-schema.ts'
import { CREATED } from '../api-status.ts'
import { type CreateInviteBodySchema, routes } from '../contract/index.ts'
import { sendInvalidPayload } from '../error-reply.ts'

export interface InviteApi {
  create(body: z.output<typeof CreateInviteBodySchema>): Promise<Invite>
  revoke(body: Revocation): Promise<RecordRef>
}

export function registerInviteRoutes(app: FastifyInstance, invites: InviteApi): void {
  app.post(routes.createInvite.path, async (request, reply) => {
    const body = routes.createInvite.body.safeParse(request.body ?? {})
    if (!body.success) return sendInvalidPayload(reply, 'invalid invite request', body.error)
    return reply.code(CREATED).send(await invites.create(body.data))
  })

  app.post(routes.revoke.path, async (request, reply) => {
    const body = routes.revoke.body.safeParse(request.body ?? {})
    if (!body.success) return sendInvalidPayload(reply, 'invalid revocation', body.error)
    return reply.code(CREATED).send(await invites.revoke(body.data))
  })
}
