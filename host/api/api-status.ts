/**
 * The management API's statuses by name: each kind of failure's (one table, read by the error
 * handler, the auth guard and the routes that refuse by hand) and the one success a route sets by hand.
 */
import type { FailureTable } from '../interface/failure-kind.ts'

export const API_STATUS = {
  invalid: 400,
  'invalid/too_large': 413,
  'invalid/unsupported': 415,
  'invalid/unprocessable': 422,
  forbidden: 403,
  'forbidden/unauthenticated': 401,
  not_found: 404,
  conflict: 409,
  busy: 429,
  unavailable: 503,
  'unavailable/no_room': 507,
  'unavailable/timed_out': 504,
  failed: 500,
  'failed/upstream': 502,
} as const satisfies FailureTable<number>

/** A record written (fastify answers 200 by itself). */
export const CREATED = 201
