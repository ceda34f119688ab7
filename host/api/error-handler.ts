/**
 * Maps anything thrown while serving a request to a status and the JSON error body. Errors are
 * recognised by `name` (not `instanceof`), so an error from another copy of a module still maps.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from '../log/logger.ts'
import { sendError } from './error-reply.ts'

interface Mapped {
  status: number
  name: string
  details?: unknown
}

// Fastify's own request errors, renamed to say what the caller did wrong.
const FASTIFY_ERRORS: Record<string, { status: number; name: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, name: 'MalformedJsonError' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, name: 'EmptyJsonBodyError' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, name: 'PayloadTooLargeError' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, name: 'InvalidContentLengthError' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, name: 'UnsupportedMediaTypeError' },
}

function mapError(err: FastifyError & Record<string, unknown>): Mapped {
  const fastifyError = FASTIFY_ERRORS[err.code]
  if (fastifyError) return fastifyError
  switch (err.name) {
    case 'InvalidEntryError':
      return { status: 422, name: err.name, details: { rule: err.rule } }
    case 'InvalidZomeCallError':
      return err.direction === 'output'
        ? { status: 500, name: err.name }
        : { status: 400, name: err.name, details: { issues: err.issues } }
    case 'RecordNotFoundError':
      return { status: 404, name: err.name }
    case 'UnresolvedDependenciesError':
      return { status: 503, name: err.name, details: { deps: err.deps } }
    // A call that raced the daemon's shutdown.
    case 'ConductorClosedError':
      return { status: 503, name: err.name }
    case 'ZomeFunctionNotImplementedError':
      return { status: 501, name: err.name }
    case 'TaskNotFoundError':
      return { status: 404, name: err.name }
    case 'NotTaskAuthorError':
    case 'NotMeshAdminError':
      return { status: 403, name: err.name }
    case 'InvalidPolicyTextError':
      return { status: 400, name: err.name }
    case 'ModelNotFoundError':
      return { status: 404, name: err.name, details: { available: err.available } }
    // The file failed the checks made before loading, or llama.cpp refused it: the daemon is fine.
    case 'ModelUnusableError':
    case 'ModelLoadError':
      return { status: 422, name: err.name }
    case 'LlamaUnavailableError':
      return { status: 503, name: err.name }
    case 'ArtifactNotFoundError':
      return { status: 404, name: err.name }
    case 'InvalidCidError':
      return { status: 400, name: err.name, details: { field: 'cid' } }
    // Nobody reachable holds the content: the daemon asked and waited.
    case 'ContentUnavailableError':
      return { status: 504, name: err.name }
    case 'ArtifactMismatchError':
      return { status: 422, name: err.name, details: { field: err.field } }
    case 'PinQuotaExceededError':
      return { status: 507, name: err.name }
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: err.statusCode, name: err.code ?? err.name }
  }
  return { status: 500, name: err.name || 'InternalError' }
}

export function errorHandler(logger: Logger) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = mapError(err as FastifyError & Record<string, unknown>)
    if (mapped.status >= 500) logger.error({ err, url: request.url }, 'request failed')
    else logger.debug({ err: err.message, url: request.url, status: mapped.status }, 'bad request')
    return sendError(reply, mapped.status, mapped.name, err.message, mapped.details)
  }
}
