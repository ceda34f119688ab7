/**
 * Maps anything thrown while serving a request to a status and the JSON error body: the status of
 * the kind the error declares (`failureKind`, read by shape, so an error from another copy of a
 * module maps too), its `details` beside the message. What the caller got wrong is a 4xx naming the
 * field at fault, logged at info without a stack (a token holder must not be able to flood the error
 * log); only the daemon's own failures, and errors that say nothing of themselves, are 5xx.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { answerFor, failureOf, type KindedError } from '../interface/failure-kind.ts'
import type { Logger } from '../log/logger.ts'
import { API_STATUS } from './api-status.ts'
import { sendError } from './error-reply.ts'
import { requestError } from './request-errors.ts'

/** Names of the conductor's, said in the callers' words. */
const CALLER_NAMES: Record<string, string> = {
  // The conductor waits for records it does not hold; the caller named records unknown here.
  UnresolvedDependenciesError: 'UnknownRecordError',
}

interface Mapped {
  status: number
  name: string
  details?: unknown
}

function mapError(err: Error, body: unknown): Mapped {
  const failure = failureOf(err)
  if (failure === null) {
    const request = requestError(err)
    return request === null
      ? { status: API_STATUS.failed, name: err.name || 'InternalError' }
      : { status: answerFor(API_STATUS, request.failure), name: request.name }
  }
  const { details } = err as KindedError
  // Records the caller named that this peer does not hold: which fields of its body named them.
  const deps = details?.deps
  return {
    status: answerFor(API_STATUS, failure),
    name: CALLER_NAMES[err.name] ?? err.name,
    details: Array.isArray(deps) ? { ...details, fields: fieldsHolding(body, deps) } : details,
  }
}

/** Dotted paths of the body's string fields whose value is one of `values` (walked without recursion). */
function fieldsHolding(body: unknown, values: readonly string[]): string[] {
  const wanted = new Set(values)
  const found: string[] = []
  const stack: { value: unknown; path: string }[] = [{ value: body, path: '' }]
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { value, path } = next
    if (typeof value === 'string' && wanted.has(value)) found.push(path || '(body)')
    else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value))
        stack.push({ value: child, path: path ? `${path}.${key}` : key })
    }
  }
  return found.sort()
}

export function errorHandler(logger: Logger) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = mapError(err, request.body)
    if (mapped.status >= 500) logger.error({ err, url: request.url }, 'request failed')
    else
      logger.info(
        { url: request.url, status: mapped.status, error: mapped.name, reason: err.message },
        'request refused',
      )
    return sendError(reply, mapped.status, mapped.name, err.message, mapped.details)
  }
}
