/**
 * Maps anything thrown while serving a request to a status and the JSON error body. Errors are
 * recognised by `name` (not `instanceof`), so an error from another copy of a module still maps.
 * What the caller got wrong is a 4xx naming the field at fault, logged at info without a stack (a
 * token holder must not be able to flood the error log); only the daemon's own failures are 5xx.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from '../log/logger.ts'
import type { MeshRunFailure } from '../scheduler/mesh-errors.ts'
import { sendError } from './error-reply.ts'
import { MESH_RUN_STATUS } from './mesh-run-status.ts'

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

/** Rule ids that judge the author, not the entry (dnas/rules/src/membrane.rs). */
const ROLE_RULE = /\.(author_role|author_role_unknown|author_is_admin|no_progenitor)$/

function mapError(err: FastifyError & Record<string, unknown>, body: unknown): Mapped {
  const fastifyError = FASTIFY_ERRORS[err.code]
  if (fastifyError) return fastifyError
  switch (err.name) {
    // A rule about who may write it (a role, an admin) forbids the caller; any other, what it sent.
    case 'InvalidEntryError':
      return {
        status: ROLE_RULE.test(err.rule as string) ? 403 : 422,
        name: err.name,
        details: { rule: err.rule },
      }
    case 'InvalidZomeCallError':
      return err.direction === 'output'
        ? { status: 500, name: err.name }
        : { status: 400, name: err.name, details: { issues: err.issues } }
    case 'RecordNotFoundError':
      return { status: 404, name: err.name }
    // The request names a record this peer does not hold: the caller's reference, not our fault.
    case 'UnresolvedDependenciesError':
      return {
        status: 422,
        name: 'UnknownRecordError',
        details: { deps: err.deps, fields: fieldsHolding(body, err.deps as string[]) },
      }
    // A call that raced the daemon's shutdown.
    case 'ConductorClosedError':
      return { status: 503, name: err.name }
    // In the contract, not in this backend yet: for the caller, no such function here.
    case 'ZomeFunctionNotImplementedError':
      return { status: 404, name: err.name, details: { field: 'fn' } }
    case 'TaskNotFoundError':
      return { status: 404, name: err.name }
    // The body's JSON (json-body-check.ts).
    case 'TooDeepJsonError':
    case 'MalformedStringError':
      return { status: 400, name: err.name, details: { field: err.field } }
    // What the mesh could not do, said as the scheduler says it (`/v1` maps it to each API's shape).
    case 'MeshRunError':
      return {
        status: MESH_RUN_STATUS[err.failure as MeshRunFailure] ?? 502,
        name: err.name,
        details: { failure: err.failure, code: err.code, field: err.field },
      }
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
    case 'EngineMissingError':
      return { status: 503, name: err.name }
    // Not enough memory here or in the mesh now: a condition that can change, not a bad request.
    case 'ModelTooLargeError':
    case 'SplitUnavailableError':
      return { status: 507, name: err.name }
    case 'ModelPullRefusedError':
      return { status: 422, name: err.name, details: { reason: err.reason } }
    case 'ModelSourceError':
      return { status: 502, name: err.name }
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
    case 'DiskFullError':
      return { status: 507, name: err.name }
    case 'InvalidMemoryInputError':
      return { status: 400, name: err.name, details: { field: err.field } }
    case 'UnknownCollectionError':
      return { status: 404, name: err.name, details: { field: 'collection' } }
    case 'CollectionExistsError':
      return { status: 409, name: err.name, details: { field: 'name' } }
    case 'EmbeddingModelChangedError':
      return { status: 409, name: err.name, details: { field: err.field } }
    case 'EmbeddingUnavailableError':
      return { status: err.status as number, name: err.name, details: { model: err.model } }
    // No live holder took a write or there is none: the mesh cannot keep it now.
    case 'ShardUnavailableError':
      return { status: 503, name: err.name, details: { shard: err.shard } }
    case 'NoMemoryRoomError':
      return { status: 503, name: err.name, details: { unplaced: err.unplaced } }
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: err.statusCode, name: err.code ?? err.name }
  }
  return { status: 500, name: err.name || 'InternalError' }
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
    const mapped = mapError(err as FastifyError & Record<string, unknown>, request.body)
    if (mapped.status >= 500) logger.error({ err, url: request.url }, 'request failed')
    else
      logger.info(
        { url: request.url, status: mapped.status, error: mapped.name, reason: err.message },
        'request refused',
      )
    return sendError(reply, mapped.status, mapped.name, err.message, mapped.details)
  }
}
