/**
 * How the memory service reaches another peer's memory service, by agent key: requests answered on
 * the memory protocol, through the node's agent port.
 */
import type { AgentPort } from '../interface/agent-port.ts'
import { MEMORY_PROTOCOL } from './memory-wire.ts'

export interface MemoryTransport {
  /** Serve requests from peers (the handler's answer, or its error, goes back to the asker). */
  serve(handler: (request: Uint8Array, from: string) => Promise<Uint8Array>): Promise<void>
  /** Rejects when the peer does not answer within `timeoutMs` (default: the transport's). */
  request(
    agent: string,
    request: Uint8Array,
    options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<Uint8Array>
  stop(): Promise<void>
}

export function agentMemoryTransport(agents: AgentPort<unknown>, timeoutMs = 30_000): MemoryTransport {
  return {
    serve: (handler) => agents.answer(MEMORY_PROTOCOL, handler),
    request: (agent, request, options = {}) =>
      agents.request(agent, MEMORY_PROTOCOL, request, { timeoutMs, ...options }),
    stop: () => agents.unhandle(MEMORY_PROTOCOL),
  }
}
