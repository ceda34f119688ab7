/**
 * The embedded conductor: one agent key, one cell per DNA (all on one SQLite store), zome calls
 * checked against the contract at both ends, signals through a SignalTransport, and an `opsCommitted`
 * hook through which the network layer learns of every record this agent writes.
 */
import {
  contract,
  DNA_NAMES,
  type DnaName,
  type ZomeFnName,
  type ZomeFunctionContract,
  type ZomeInput,
  type ZomeOutput,
} from '../../../zomes-bindings/index.ts'
import { encodeHashB64 } from '../../identity/hash.ts'
import type {
  AgentInfoView,
  ConductorPort,
  Signal,
  SignalTopics,
  ZomeCallOptions,
} from '../../interface/conductor-port.ts'
import type { Failure } from '../../interface/failure-kind.ts'
import type { Logger } from '../../log/logger.ts'
import type { ChainStore } from '../../storage/chain-store.ts'
import type { Cell } from './cell.ts'
import type { CommitFeed, OpsCommittedEvent } from './commit-feed.ts'
import { InvalidZomeCallError, ZomeFunctionNotImplementedError } from './errors.ts'
import type { Hdk } from './hdk.ts'
import type { RemoteReadsRelay } from './remote-reads.ts'
import type { SignalTransport } from './signal-transport.ts'
import type { StandingRelay } from './validation/agent-standing.ts'
import { type CoordinatorZome, coordinatorZomes, readOnlyZomeFns, type ZomeFunction } from './zomes/index.ts'

/** Thrown when the conductor is used after `close()`. */
export class ConductorClosedError extends Error {
  static override readonly name = 'ConductorClosedError'
  // A call that raced the daemon's shutdown.
  readonly failureKind: Failure = 'unavailable'
  constructor() {
    super('the embedded conductor is closed')
    this.name = 'ConductorClosedError'
  }
}

export interface EmbeddedConductorParts {
  cells: Map<DnaName, Cell>
  agentPubKey: Uint8Array
  store: ChainStore
  signals: SignalTransport
  commits: CommitFeed
  /** What the cells' rules hold against other agents; replication attaches what it knows. */
  standing: StandingRelay
  /** Where the cells' zome calls read records held elsewhere; replication attaches its holders' gets. */
  remote: RemoteReadsRelay
  logger: Logger
}

export class EmbeddedConductor implements ConductorPort {
  readonly backend = 'embedded' as const
  readonly agentPubKey: string
  readonly store: ChainStore
  readonly standing: StandingRelay
  readonly remoteReads: RemoteReadsRelay
  readonly #cells: Map<DnaName, Cell>
  readonly #signals: SignalTransport
  readonly #logger: Logger
  readonly #signalHandlers = new Set<(signal: Signal) => void>()
  readonly #commits: CommitFeed
  readonly #stopReceiving: () => void
  #closed = false
  readonly topics?: SignalTopics

  constructor(parts: EmbeddedConductorParts) {
    this.agentPubKey = encodeHashB64(parts.agentPubKey)
    this.store = parts.store
    this.standing = parts.standing
    this.remoteReads = parts.remote
    this.#cells = parts.cells
    this.#signals = parts.signals
    this.#commits = parts.commits
    this.#logger = parts.logger
    this.#stopReceiving = this.#signals.onReceive((signal) => this.#deliver(signal))
    const topics = this.#signals.topics
    if (topics)
      this.topics = {
        join: (topic) => topics.join(topic),
        leave: (topic) => topics.leave(topic),
        publish: async (dna, topic, payload) => {
          this.#assertOpen()
          await topics.publish(topic, { dna, from: this.agentPubKey, payload })
        },
      }
  }

  /** The cell of a DNA (for the network layer: its DNA hash and chain). */
  cell(dna: DnaName): Cell {
    this.#assertOpen()
    const cell = this.#cells.get(dna)
    if (cell === undefined) throw new TypeError(`unknown DNA ${dna}`)
    return cell
  }

  async callZome<D extends DnaName, F extends ZomeFnName<D>>(
    dna: D,
    fn: F,
    payload: ZomeInput<D, F>,
    options: ZomeCallOptions = {},
  ): Promise<ZomeOutput<D, F>> {
    const cell = this.cell(dna)
    const fnContract = (contract[dna].functions as Record<string, ZomeFunctionContract>)[fn]
    if (fnContract === undefined) {
      throw new InvalidZomeCallError(dna, fn, [{ path: [], message: `${dna} has no zome function ${fn}` }])
    }
    const input = fnContract.input.safeParse(payload)
    if (!input.success) throw new InvalidZomeCallError(dna, fn, input.error.issues)
    const handler = (coordinatorZomes[dna] as CoordinatorZome<D>)[fn] as ZomeFunction<D, F> | undefined
    if (handler === undefined) throw new ZomeFunctionNotImplementedError(dna, fn)
    const run = async (hdk: Hdk) => {
      const result = await handler(hdk, input.data as never)
      // Checked before commit: a zome that answers off-contract writes nothing.
      const output = fnContract.output.safeParse(result)
      if (!output.success) throw new InvalidZomeCallError(dna, fn, output.error.issues, 'output')
      return output.data as ZomeOutput<D, F>
    }
    const reads = readOnlyZomeFns[dna] as ReadonlySet<string> | undefined
    return reads?.has(fn) ? cell.read(run, fn, options.signal) : cell.call(run, fn, options.signal)
  }

  async agentInfo(dna: DnaName): Promise<AgentInfoView> {
    const cell = this.cell(dna)
    const head = cell.chain.head
    return {
      agent_pubkey: this.agentPubKey,
      dna,
      dna_hash: encodeHashB64(cell.dnaHash),
      chain_head: { action_hash: encodeHashB64(head.hash), action_seq: head.seq, timestamp: head.timestamp },
    }
  }

  async broadcastSignal(dna: DnaName, payload: unknown): Promise<void> {
    this.#assertOpen()
    await this.#signals.broadcast({ dna, from: this.agentPubKey, payload })
  }

  async sendSignal(dna: DnaName, to: string, payload: unknown): Promise<void> {
    this.#assertOpen()
    await this.#signals.send(to, { dna, from: this.agentPubKey, payload })
  }

  onSignal(handler: (signal: Signal) => void): () => void {
    this.#signalHandlers.add(handler)
    return () => this.#signalHandlers.delete(handler)
  }

  /** Subscribes to every commit of this agent (the network layer publishes them as ops). */
  onOpsCommitted(listener: (event: OpsCommittedEvent) => void): () => void {
    return this.#commits.subscribe(listener)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#stopReceiving()
    await this.#signals.close()
    // Let zome calls already queued on the cells finish before the store goes away.
    await Promise.all(
      [...this.#cells.values()].map((cell) => cell.call(() => undefined).catch(() => undefined)),
    )
    this.store.close()
  }

  #deliver(signal: Signal): void {
    if (!DNA_NAMES.includes(signal.dna)) return
    for (const handler of this.#signalHandlers) {
      try {
        handler(signal)
      } catch (err) {
        this.#logger.error({ err, dna: signal.dna }, 'signal handler failed')
      }
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new ConductorClosedError()
  }
}
