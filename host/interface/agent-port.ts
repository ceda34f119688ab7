/**
 * How a service reaches the services of other peers: by agent key, never by a transport's address.
 * A byte stream on a protocol (the split's RPC tunnel, direct requests), a request answered on one (the
 * shared memory), and a round trip (what a split's plan weighs). Every protocol served here serves
 * members of the mesh only. The node implements it once over its libp2p node (`node/agent-port.ts`),
 * where an agent's key is its peer id; a backend without one (Holochain) has none.
 *
 * `S` is the transport's stream (libp2p's `Stream`), named by the services that read it: this leaf
 * names no package.
 */

export interface AgentRequestOptions {
  /** Aborting rejects with the signal's reason. */
  signal?: AbortSignal
  /** Overrides the transport's default timeout. */
  timeoutMs?: number
}

export interface AgentPort<S> {
  /**
   * A stream to `agent` (dialled if need be) on the first of `protocols` it serves (newest version first;
   * the stream says which it chose); rejects when it cannot be reached, refuses, or is not a member
   * (then before anything is sent).
   */
  open(agent: string, protocols: string | readonly string[], signal?: AbortSignal): Promise<S>
  /** Serves streams on `protocol`, each with the agent that opened it. */
  handle(protocol: string, handler: (stream: S, agent: string) => void | Promise<void>): Promise<void>
  /** One request to `agent` on `protocol`, and its answer (an answer that failed there rejects here). */
  request(
    agent: string,
    protocol: string,
    request: Uint8Array,
    options?: AgentRequestOptions,
  ): Promise<Uint8Array>
  /** Answers requests on `protocol`, each with the agent that asked (a handler's error goes back to it). */
  answer(
    protocol: string,
    handler: (request: Uint8Array, agent: string) => Promise<Uint8Array>,
  ): Promise<void>
  /** Stops serving `protocol` (streams or requests). */
  unhandle(protocol: string): Promise<void>
  /** The round trip to `agent` now, in whole ms. */
  rtt(agent: string): Promise<number>
}
