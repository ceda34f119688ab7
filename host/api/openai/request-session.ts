/**
 * A request's coding-agent session (issue 58, point 4), read once where `/v1` takes it: it keeps the
 * conversation on its runner, counts against its API key's session caps and names its usage. A header
 * that does not read is left out with a debug line (agent-session.ts), never refused.
 */
import type { FastifyRequest } from 'fastify'
import { type AgentSession, agentSession } from '../../requests/agent-session.ts'

export function requestSession(request: Pick<FastifyRequest, 'headers' | 'log'>): AgentSession | null {
  return agentSession(request.headers, (fields, message) => request.log.debug(fields, message))
}
