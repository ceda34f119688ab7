/**
 * The conductor port: the one way the host reaches coordination state, whichever backend
 * (embedded TypeScript conductor, or a real Holochain conductor) sits behind it.
 * Zome names and payloads are typed by the contract in `zomes-bindings/`.
 */
import type { DnaName, ZomeFnName, ZomeInput, ZomeOutput } from '../../zomes-bindings/index.ts'

export interface AgentInfoView {
  /** HoloHashB64 of this agent's key. */
  agent_pubkey: string
  dna: DnaName
  /** HoloHashB64 of the cell's DNA hash. */
  dna_hash: string
  chain_head: { action_hash: string; action_seq: number; timestamp: number }
}

/** An ephemeral message between peers, never written to a chain (heartbeats). */
export interface Signal {
  dna: DnaName
  /** HoloHashB64 of the sender. */
  from: string
  payload: unknown
  /** The topic it came on (a model's, for its runners and users); absent: to every peer, or to this one. */
  topic?: string
}

/**
 * Signals on a topic (a model's): heard only by the peers that joined it, so a runner's load news
 * reaches that model's runners and users, not the whole mesh (design 4e).
 */
export interface SignalTopics {
  join(topic: string): void
  leave(topic: string): void
  /** Sends an ephemeral signal to the peers that joined `topic` (fire and forget, within its rate budget). */
  publish(dna: DnaName, topic: string, payload: unknown): Promise<void>
}

/** How a zome call may be stopped, beside what the contract says of its payload. */
export interface ZomeCallOptions {
  /**
   * Its caller went away (an API request's client): the call's reads from holders stop, and it
   * rejects with the signal's reason, not at the reads' own deadline.
   */
  signal?: AbortSignal
}

export interface ConductorPort {
  readonly backend: 'embedded' | 'holochain'
  /** HoloHashB64 of this host's agent key (the same key in every cell). */
  readonly agentPubKey: string
  /**
   * Rejects with InvalidEntryError when the rules refuse what the call writes (the rule in `rule`),
   * UnresolvedDependenciesError when they need records not held here yet (./zome-refusal.ts).
   */
  callZome<D extends DnaName, F extends ZomeFnName<D>>(
    dna: D,
    fn: F,
    payload: ZomeInput<D, F>,
    options?: ZomeCallOptions,
  ): Promise<ZomeOutput<D, F>>
  agentInfo(dna: DnaName): Promise<AgentInfoView>
  /** Sends an ephemeral signal to every peer in the network (fire and forget). */
  broadcastSignal(dna: DnaName, payload: unknown): Promise<void>
  /**
   * Sends an ephemeral signal to one agent only (Holochain's remote signal), e.g. a running task's
   * tokens to its requester; signals to one agent arrive in the order they were sent. Resolves once
   * delivered; rejects when the agent cannot be reached.
   */
  sendSignal(dna: DnaName, to: string, payload: unknown): Promise<void>
  onSignal(handler: (signal: Signal) => void): () => void
  /** Topics of signals; absent on a backend without them (Holochain): callers broadcast instead. */
  readonly topics?: SignalTopics
  close(): Promise<void>
}
