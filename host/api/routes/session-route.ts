/**
 * POST /api/session: trades a one-time login code (from the link `ripple up` prints) for the API
 * token, so a browser gets the token without it ever being printed. The only route without the token.
 * GET /api/session: what the caller signed in with (the token: API keys reach /v1 and /mcp only).
 */
import type { FastifyInstance } from 'fastify'
import { API_STATUS } from '../api-status.ts'
import { type ReplyOf, routes } from '../contract/index.ts'
import { sendError, sendInvalidPayload } from '../error-reply.ts'
import type { LoginCodes } from '../login-codes.ts'

export const SESSION_ROUTE = { method: routes.session.method, url: routes.session.path } as const

export function registerSessionRoute(app: FastifyInstance, codes: LoginCodes, token: string): void {
  app.post(SESSION_ROUTE.url, async (request, reply) => {
    const body = routes.session.body.safeParse(request.body ?? null)
    if (!body.success) return sendInvalidPayload(reply, 'invalid session request', body.error)
    if (!codes.redeem(body.data.code)) {
      return sendError(
        reply,
        API_STATUS['forbidden/unauthenticated'],
        'InvalidLoginCodeError',
        'code: unknown, already used or expired',
        {
          field: 'code',
        },
      )
    }
    const answer: ReplyOf<'session'> = { token }
    return answer
  })
  app.get(routes.whoAmI.path, async () => {
    const answer: ReplyOf<'whoAmI'> = { signed_in_with: 'token' }
    return answer
  })
}
