/**
 * A cell: one agent's source chain in one DNA, with the HDK its zome calls use. Zome calls on a cell run
 * one at a time, each in its own ChainWrite: all of a call's writes commit together after it returns,
 * none if it throws.
 */
import type { Action } from '@holochain/client'
import type { AgentKey } from '../../identity/keystore.ts'
import type { MembraneProof } from '../../identity/membrane-grant.ts'
import type { ChainStore, StoredEntry } from '../../storage/chain-store.ts'
import { type DnaDef, type DnaModifiers, dnaHashOf } from './dna.ts'
import { indexEntryKeys } from './entry-keys.ts'
import { type CellContext, Hdk } from './hdk.ts'
import { type CommittedAction, SourceChain } from './source-chain.ts'
import { type AgentStanding, NO_STANDING } from './validation/agent-standing.ts'
import {
  checkActionRules,
  type RecordBeside,
  type RulesContext,
  storeRecords,
  withRecords,
} from './validation/record-rules.ts'
import type { RulesValidator } from './validation/validator.ts'

export interface CellInit {
  store: ChainStore
  key: AgentKey
  dna: DnaDef
  modifiers: DnaModifiers
  validator: RulesValidator
  /** The invite written into this agent's genesis, on a network that requires one. */
  membraneProof?: MembraneProof | null
  /** Called after each commit with the actions it stored, in chain order. */
  onCommitted?: (cell: Cell, actions: CommittedAction[]) => void
  /** Microseconds since the epoch; injectable for tests. */
  now?: () => number
  /** What is held against other agents (revocations, warrants, sealed legacy grants); default: nothing. */
  standing?: AgentStanding
}

export class Cell {
  readonly dna: DnaDef
  readonly dnaHash: Uint8Array
  readonly chain: SourceChain
  readonly #ctx: CellContext
  readonly #onCommitted: CellInit['onCommitted']
  readonly #storedRules: RulesContext
  #queue: Promise<unknown> = Promise.resolve()

  private constructor(init: CellInit, dnaHash: Uint8Array, chain: SourceChain) {
    this.dna = init.dna
    this.dnaHash = dnaHash
    this.chain = chain
    this.#onCommitted = init.onCommitted
    this.#ctx = {
      dna: init.dna,
      dnaHash,
      agentPubKey: init.key.agentPubKey,
      store: init.store,
      validator: init.validator,
      properties: init.modifiers.properties,
      standing: init.standing ?? NO_STANDING,
    }
    this.#storedRules = {
      validator: init.validator,
      dna: init.dna,
      properties: init.modifiers.properties,
      source: storeRecords(init.store, dnaHash),
      standing: init.standing ?? NO_STANDING,
    }
  }

  /**
   * Opens the cell: verifies its chain (ChainIntegrityError if broken) or writes genesis, and indexes
   * its keyed entries if the store holds no index of them yet (one from before the index).
   */
  static open(init: CellInit): Cell {
    const dnaHash = dnaHashOf(init.dna.name, init.modifiers)
    const chain = SourceChain.open({
      store: init.store,
      dnaName: init.dna.name,
      dnaHash,
      key: init.key,
      membraneProof: init.membraneProof,
      ...(init.now ? { now: init.now } : {}),
    })
    indexEntryKeys(init.store, init.dna, dnaHash, init.key.agentPubKey)
    return new Cell(init, dnaHash, chain)
  }

  get agentPubKey(): Uint8Array {
    return this.#ctx.agentPubKey
  }

  /**
   * Runs the rules on an action another agent signed, as this cell's HDK runs them on its own writes,
   * with dependencies from the store (for replication) and `beside` it (records got from their
   * holders, for a get). Throws InvalidEntryError, UnknownTypeError or UnresolvedDependenciesError (a
   * record it needs is not held yet).
   */
  checkForeignAction(action: Action, entry: StoredEntry | null, beside: readonly RecordBeside[] = []): void {
    const rules =
      beside.length === 0
        ? this.#storedRules
        : { ...this.#storedRules, source: withRecords(this.#storedRules.source, beside) }
    checkActionRules(rules, action, entry)
  }

  /**
   * Runs `fn` as one zome call: after the calls before it, committing its writes if it returns. The
   * call answers, and its commit goes to the listeners (peers), once the commit is on disk; the calls
   * behind it run meanwhile, and one sync serves them all (group commit).
   */
  async call<T>(fn: (hdk: Hdk) => T | Promise<T>): Promise<T> {
    const run = async () => {
      const write = this.chain.beginWrite()
      const result = await fn(new Hdk(this.#ctx, write))
      return { result, committed: write.commit() }
    }
    const done = this.#queue.then(run)
    this.#queue = done.catch(() => undefined)
    const { result, committed } = await done
    if (committed.length > 0) {
      await this.#ctx.store.flush()
      this.#onCommitted?.(this, committed)
    }
    return result
  }

  /**
   * Runs `fn`, which only reads, at once: beside the queued calls, not behind them (a look-up does not
   * wait for signing or writes, nor stall them). It sees what is committed; a write throws, unstored.
   */
  async read<T>(fn: (hdk: Hdk) => T | Promise<T>): Promise<T> {
    const write = this.chain.beginWrite()
    const result = await fn(new Hdk(this.#ctx, write))
    if (write.items.length > 0) throw new TypeError(`a read of ${this.dna.name} wrote to the chain`)
    return result
  }
}
