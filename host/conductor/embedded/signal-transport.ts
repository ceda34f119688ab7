/**
 * How ephemeral signals (heartbeats) travel between conductors. The embedded conductor only sees this
 * seam: the in-memory hub here links conductors in one process (and loops a lone conductor's signals
 * back to itself); the libp2p implementation plugs in the same way.
 */
import type { Signal } from '../../interface/conductor-port.ts'

export interface SignalTransport {
  /** Sends a signal to every connected conductor, this one included. */
  broadcast(signal: Signal): Promise<void>
  /** Sends a signal to one agent's conductor (this one, if `to` is its agent), in order; rejects if unreachable. */
  send(to: string, signal: Signal): Promise<void>
  /** Registers the receiver of signals; returns a function that unregisters it. */
  onReceive(handler: (signal: Signal) => void): () => void
  /** Signals on topics (a model's), received through `onReceive` with their topic; absent: broadcast only. */
  topics?: {
    join(topic: string): void
    leave(topic: string): void
    publish(topic: string, signal: Signal): Promise<void>
  }
  close(): Promise<void>
}

/**
 * Connects in-process transports: a signal broadcast on one reaches every open one; a member is
 * known by its agent once it has sent something.
 */
export class MemorySignalHub {
  readonly #members = new Set<MemorySignalTransport>()

  /** A transport on the hub; given its agent, it is reachable before it has sent anything. */
  connect(agent: string | null = null): SignalTransport {
    const transport = new MemorySignalTransport(this.#members, agent)
    this.#members.add(transport)
    return transport
  }
}

class MemorySignalTransport implements SignalTransport {
  readonly #members: Set<MemorySignalTransport>
  readonly #handlers = new Set<(signal: Signal) => void>()
  #agent: string | null = null

  constructor(members: Set<MemorySignalTransport>, agent: string | null) {
    this.#members = members
    this.#agent = agent
  }

  async broadcast(signal: Signal): Promise<void> {
    this.#agent = signal.from
    // Like a network hop: handlers run after the sender's turn, never inside its call stack.
    await Promise.resolve()
    for (const member of this.#members) member.#deliver(signal)
  }

  async send(to: string, signal: Signal): Promise<void> {
    this.#agent = signal.from
    await Promise.resolve()
    const member = [...this.#members].find((m) => m.#agent === to)
    if (member === undefined) throw new Error(`agent ${to} is not connected to this hub`)
    member.#deliver(signal)
  }

  onReceive(handler: (signal: Signal) => void): () => void {
    this.#handlers.add(handler)
    return () => this.#handlers.delete(handler)
  }

  async close(): Promise<void> {
    this.#members.delete(this)
    this.#handlers.clear()
  }

  #deliver(signal: Signal): void {
    for (const handler of this.#handlers) handler(signal)
  }
}
