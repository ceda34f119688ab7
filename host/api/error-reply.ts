import type { FastifyReply } from 'fastify'
import type { z } from 'zod'
import { API_STATUS } from './api-status.ts'
import type { ApiErrorBody } from './contract/index.ts'

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

/** 400 with every zod issue and its path, so a caller fixes all of them at once. */
export function sendInvalidPayload(reply: FastifyReply, message: string, error: z.ZodError) {
  const issues = error.issues.map((i) => ({ path: i.path.map(String), message: i.message, code: i.code }))
  return sendError(reply, API_STATUS.invalid, 'InvalidPayloadError', message, { issues })
}
