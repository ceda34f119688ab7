/**
 * Errors of the inference endpoint, and their answers in each API's own shape: OpenAI's
 * `{ error: { message, type, param, code } }` and Anthropic's `{ type: 'error', error: { type, message } }`.
 * One error carries its kind, a code and the field at fault; each API's table says the status and the
 * type it names for each kind.
 */
import type { z } from 'zod'
import {
  answerFor,
  type Failure,
  type FailureKind,
  type FailureTable,
  failureOf,
  kindOf,
} from '../../interface/failure-kind.ts'
import { requestError } from '../request-errors.ts'

export class EndpointError extends Error {
  static override readonly name = 'EndpointError'
  constructor(
    readonly failureKind: Failure,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    /** Seconds to wait before trying again: the answer's `retry-after` (a 429 of a limit). */
    readonly retryAfterS: number | null = null,
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
  error: { type: string; message: string; details?: { error_code: string; unsupported: string[] } }
}

/**
 * Refusals Anthropic's API details with their code and the fields at fault, which its SDK acts on
 * (a refused message thread makes its tool runner send whole conversations from then on).
 */
const DETAILED = new Set(['thread_unsupported_request'])

interface Answer {
  status: number
  /** The error's type as the API names it. */
  type: string
}

const OPENAI: FailureTable<Answer> = {
  invalid: { status: 400, type: 'invalid_request_error' },
  'invalid/too_large': { status: 413, type: 'invalid_request_error' },
  'invalid/unsupported': { status: 415, type: 'invalid_request_error' },
  forbidden: { status: 403, type: 'permission_error' },
  'forbidden/unauthenticated': { status: 401, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  busy: { status: 429, type: 'rate_limit_error' },
  unavailable: { status: 503, type: 'server_error' },
  'unavailable/no_room': { status: 507, type: 'server_error' },
  failed: { status: 500, type: 'server_error' },
  'failed/upstream': { status: 502, type: 'server_error' },
}

const ANTHROPIC: FailureTable<Answer> = {
  invalid: { status: 400, type: 'invalid_request_error' },
  'invalid/too_large': { status: 413, type: 'request_too_large' },
  'invalid/unsupported': { status: 415, type: 'invalid_request_error' },
  forbidden: { status: 403, type: 'permission_error' },
  'forbidden/unauthenticated': { status: 401, type: 'authentication_error' },
  not_found: { status: 404, type: 'not_found_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  busy: { status: 429, type: 'rate_limit_error' },
  unavailable: { status: 503, type: 'overloaded_error' },
  'unavailable/no_room': { status: 507, type: 'overloaded_error' },
  failed: { status: 500, type: 'api_error' },
  'failed/upstream': { status: 502, type: 'api_error' },
}

export function openAiErrorBody(err: EndpointError): OpenAiErrorBody {
  const { type } = answerFor(OPENAI, err.failureKind)
  return { error: { message: err.message, type, param: err.param, code: err.code } }
}

export function anthropicErrorBody(err: EndpointError): AnthropicErrorBody {
  const { type } = answerFor(ANTHROPIC, err.failureKind)
  const details = DETAILED.has(err.code)
    ? { details: { error_code: err.code, unsupported: [err.param ?? ''] } }
    : {}
  return { type: 'error', error: { type, message: err.message, ...details } }
}

/** A 400 naming the first field at fault (`messages[0].role`), with every issue in the message. */
export function invalidRequest(error: z.ZodError): EndpointError {
  const first = error.issues[0]
  const param = first ? fieldPath(first.path) : null
  const message = error.issues.map((i) => `${fieldPath(i.path) || 'body'}: ${i.message}`).join('; ')
  return new EndpointError('invalid', 'invalid_value', message, param)
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, part) =>
      typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part),
    '',
  )
}

/**
 * Anything thrown while serving an endpoint request, as an EndpointError: an error that says its kind
 * keeps it (and its code and field, where it names them), Fastify's request errors are the caller's,
 * the rest is the daemon's own failure.
 */
export function asEndpointError(err: unknown): EndpointError {
  if (err instanceof EndpointError) return err
  const e = err as Error & { code?: unknown; field?: unknown; retryAfterS?: unknown }
  const param = typeof e.field === 'string' ? e.field : null
  const [failure, kind] = [failureOf(err), kindOf(err)]
  if (failure !== null && kind !== null) {
    const code = typeof e.code === 'string' ? e.code : codeOf(kind)
    const retryAfterS = typeof e.retryAfterS === 'number' ? e.retryAfterS : null
    return new EndpointError(failure, code, e.message, param, retryAfterS)
  }
  const request = requestError(err)
  if (request !== null) {
    const code = e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'invalid_json' : 'invalid_request'
    return new EndpointError(request.failure, code, e.message, param)
  }
  return new EndpointError('failed', codeOf('failed'), e.message || 'internal error')
}

/** The code of an error that names none: its kind, in the words the endpoint has always used. */
function codeOf(kind: FailureKind): string {
  return kind === 'invalid' ? 'invalid_request' : kind === 'failed' ? 'internal_error' : kind
}

/** The error's status and body in the shape of the API at `url`: Anthropic's on `/v1/messages`, OpenAI's elsewhere. */
export function endpointReply(
  url: string,
  err: EndpointError,
): { status: number; body: OpenAiErrorBody | AnthropicErrorBody } {
  return url.startsWith('/v1/messages')
    ? { status: answerFor(ANTHROPIC, err.failureKind).status, body: anthropicErrorBody(err) }
    : { status: answerFor(OPENAI, err.failureKind).status, body: openAiErrorBody(err) }
}
