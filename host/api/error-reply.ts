import type { FastifyReply } from 'fastify'

/** Every API error has this body, whatever the route or cause. */
export interface ApiErrorBody {
  error: { name: string; message: string; details?: unknown }
}

export function sendError(
  reply: FastifyReply,
  status: number,
  name: string,
  message: string,
  details?: unknown,
) {
  const body: ApiErrorBody = { error: details === undefined ? { name, message } : { name, message, details } }
  return reply.code(status).type('application/json').send(body)
}
