/**
 * Fastify's own request errors (a body it could not read, one too large) in the callers' words: a name
 * saying what they did wrong, and a kind, which each edge answers from its table like any other.
 */
import type { Failure } from '../interface/failure-kind.ts'

export interface RequestError {
  name: string
  failure: Failure
}

const FASTIFY_ERRORS: Record<string, RequestError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { name: 'MalformedJsonError', failure: 'invalid' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { name: 'EmptyJsonBodyError', failure: 'invalid' },
  FST_ERR_CTP_BODY_TOO_LARGE: { name: 'PayloadTooLargeError', failure: 'invalid/too_large' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { name: 'InvalidContentLengthError', failure: 'invalid' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { name: 'UnsupportedMediaTypeError', failure: 'invalid/unsupported' },
}

/**
 * `err` as a request error: one of Fastify's above, or another 4xx it raised (under its code), which
 * is the request's fault too; null for anything else.
 */
export function requestError(err: unknown): RequestError | null {
  const e = err as { code?: unknown; statusCode?: unknown; name?: unknown }
  const known = typeof e.code === 'string' ? FASTIFY_ERRORS[e.code] : undefined
  if (known !== undefined) return known
  if (typeof e.statusCode !== 'number' || e.statusCode < 400 || e.statusCode >= 500) return null
  return { name: String(e.code ?? e.name), failure: 'invalid' }
}
