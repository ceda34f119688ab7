/**
 * POST /api/session: trades a one-time login code (from the link `ripple up` prints) for the API
 * token, so a browser gets the token without it ever being printed. The only route without the token.
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { sendError, sendInvalidPayload } from '../error-reply.ts'
import type { LoginCodes } from '../login-codes.ts'

export const SESSION_ROUTE = { method: 'POST', url: '/api/session' } as const

export const SessionBodySchema = z.strictObject({ code: z.string().min(1).max(128) })
export type SessionBody = z.infer<typeof SessionBodySchema>

export interface SessionReply {
  token: string
}

export function registerSessionRoute(app: FastifyInstance, codes: LoginCodes, token: string): void {
  app.post(SESSION_ROUTE.url, async (request, reply) => {
    const body = SessionBodySchema.safeParse(request.body ?? null)
    if (!body.success) return sendInvalidPayload(reply, 'invalid session request', body.error)
    if (!codes.redeem(body.data.code)) {
      return sendError(reply, 401, 'InvalidLoginCodeError', 'code: unknown, already used or expired', {
        field: 'code',
      })
    }
    const answer: SessionReply = { token }
    return answer
  })
}
