/**
 * MCP's HTTP status for each kind of failure: what `/mcp` answers before a session's server takes a
 * request (the credential, the Host and Origin guard, the session). A tool's own failure is no HTTP
 * status: the SDK answers it as a tool error with its message.
 */
import type { FailureTable } from '../../interface/failure-kind.ts'

export const MCP_STATUS: FailureTable<number> = {
  invalid: 400,
  forbidden: 403,
  'forbidden/unauthenticated': 401,
  not_found: 404,
  conflict: 409,
  busy: 429,
  unavailable: 503,
  failed: 500,
}
