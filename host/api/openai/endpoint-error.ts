/**
 * Errors of the inference endpoint, and their bodies in each API's own shape: OpenAI's
 * `{ error: { message, type, param, code } }` and Anthropic's `{ type: 'error', error: { type, message } }`.
 * One error carries the status, a code and the field at fault; each API names the type its way.
 */
import type { z } from 'zod'
import { MeshRunError } from '../../scheduler/mesh-errors.ts'
import { MESH_RUN_STATUS } from '../mesh-run-status.ts'

export class EndpointError extends Error {
  static override readonly name = 'EndpointError'
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message)
    this.name = 'EndpointError'
  }
}

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null }
}

export interface AnthropicErrorBody {
  type: 'error'
  error: { type: string; message: string }
}

const OPENAI_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  403: 'permission_error',
  404: 'invalid_request_error',
  413: 'invalid_request_error',
  429: 'rate_limit_error',
}

const ANTHROPIC_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  503: 'overloaded_error',
}

export function openAiErrorBody(err: EndpointError): OpenAiErrorBody {
  const type = OPENAI_TYPES[err.status] ?? (err.status < 500 ? 'invalid_request_error' : 'server_error')
  return { error: { message: err.message, type, param: err.param, code: err.code } }
}

export function anthropicErrorBody(err: EndpointError): AnthropicErrorBody {
  const type = ANTHROPIC_TYPES[err.status] ?? (err.status < 500 ? 'invalid_request_error' : 'api_error')
  return { type: 'error', error: { type, message: err.message } }
}

/** A 400 naming the first field at fault (`messages[0].role`), with every issue in the message. */
export function invalidRequest(error: z.ZodError): EndpointError {
  const first = error.issues[0]
  const param = first ? fieldPath(first.path) : null
  const message = error.issues.map((i) => `${fieldPath(i.path) || 'body'}: ${i.message}`).join('; ')
  return new EndpointError(400, 'invalid_value', message, param)
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, part) =>
      typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part),
    '',
  )
}

/**
 * Anything thrown while serving an endpoint request, as an EndpointError: the scheduler's mesh errors
 * by their kind, the body's errors (Fastify's, json-body-check's) keep their status and field, the
 * rest is a 500.
 */
export function asEndpointError(err: unknown): EndpointError {
  if (err instanceof EndpointError) return err
  if (err instanceof MeshRunError)
    return new EndpointError(MESH_RUN_STATUS[err.failure], err.code, err.message, err.field)
  const e = err as Error & { statusCode?: number; code?: string; field?: unknown }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)
    return new EndpointError(
      e.statusCode,
      e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'invalid_json' : 'invalid_request',
      e.message,
      typeof e.field === 'string' ? e.field : null,
    )
  return new EndpointError(500, 'internal_error', e.message || 'internal error')
}

/** The error's body in the shape of the API at `url`: Anthropic's on `/v1/messages`, OpenAI's elsewhere. */
export function endpointErrorBody(url: string, err: EndpointError): OpenAiErrorBody | AnthropicErrorBody {
  return url.startsWith('/v1/messages') ? anthropicErrorBody(err) : openAiErrorBody(err)
}
