/** Invites: POST /api/invites writes a signed invite to this peer's private mesh (its admin only). */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { INVITE_ROLES, type Invite } from '../../mesh/invite.ts'
import { sendInvalidPayload } from '../error-reply.ts'

/** A week at most: an invite carries the mesh's key, so it should not outlive its use by long. */
export const MAX_INVITE_MS = 7 * 24 * 3_600_000

export const CreateInviteBodySchema = z.strictObject({
  role: z.enum(INVITE_ROLES).default('member'),
  expires_in_ms: z
    .number()
    .int()
    .min(1)
    .max(MAX_INVITE_MS)
    .default(24 * 3_600_000),
})
export type CreateInviteBody = z.input<typeof CreateInviteBodySchema>

export interface InviteApi {
  create(body: z.output<typeof CreateInviteBodySchema>): Promise<Invite>
}

export function registerInviteRoutes(app: FastifyInstance, invites: InviteApi): void {
  app.post('/api/invites', async (request, reply) => {
    const body = CreateInviteBodySchema.safeParse(request.body ?? {})
    if (!body.success) return sendInvalidPayload(reply, 'invalid invite request', body.error)
    return reply.code(201).send(await invites.create(body.data))
  })
}
