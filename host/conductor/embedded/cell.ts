/**
 * A cell: one agent's source chain in one DNA, with the HDK its zome calls use. Zome calls on a cell run
 * one at a time, each in its own ChainWrite: all of a call's writes commit together after it returns,
 * none if it throws. A call that missed reads of records held elsewhere (remote-reads.ts) runs again
 * with what their holders gave, its earlier runs' writes dropped (read-rounds.ts bounds the rounds).
 */
import type { Action } from '@holochain/client'
import type { AgentKey } from '../../identity/keystore.ts'
import type { MembraneProof } from '../../identity/membrane-grant.ts'
import { untilAborted } from '../../runtime/until-aborted.ts'
import type { ChainStore, StoredEntry } from '../../storage/chain-store.ts'
import type { CellContext } from './cell-context.ts'
import { type DnaDef, type DnaModifiers, dnaHashOf } from './dna.ts'
import { indexEntryKeys } from './entry-keys.ts'
import { ReadsTimedOutError } from './errors.ts'
import { Hdk } from './hdk.ts'
import { afterRound, NO_ROUNDS, planRound, READS_DEADLINE_MS, type RoundsSoFar } from './read-rounds.ts'
import {
  type GotReads,
  mergeGot,
  NOTHING_GOT,
  type ReadMiss,
  type RemoteReads,
  STORE_ONLY,
} from './remote-reads.ts'
import { type ChainWrite, type CommittedAction, SourceChain } from './source-chain.ts'
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
  /** Reads of records held elsewhere; default: the store answers every read. */
  remote?: RemoteReads
  /** How long one call's gets from holders may take in all (ms); default READS_DEADLINE_MS. */
  readsDeadlineMs?: number
}

/** One run of a call: its outcome with its write, or the misses to get before it runs again. */
type Attempt<T> = { kind: 'done'; result: T; write: ChainWrite } | { kind: 'fetch'; misses: ReadMiss[] }

export class Cell {
  readonly dna: DnaDef
  readonly dnaHash: Uint8Array
  readonly chain: SourceChain
  readonly #ctx: CellContext
  readonly #onCommitted: CellInit['onCommitted']
  readonly #storedRules: RulesContext
  readonly #remote: RemoteReads
  readonly #readsDeadlineMs: number
  #queue: Promise<unknown> = Promise.resolve()

  private constructor(init: CellInit, dnaHash: Uint8Array, chain: SourceChain) {
    this.dna = init.dna
    this.dnaHash = dnaHash
    this.chain = chain
    this.#onCommitted = init.onCommitted
    this.#remote = init.remote ?? STORE_ONLY
    this.#readsDeadlineMs = init.readsDeadlineMs ?? READS_DEADLINE_MS
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
   * behind it run meanwhile, and one sync serves them all (group commit). A run that missed reads gives
   * its turn up while the misses are got, then queues again. `name`: the zome function, which the gets
   * are counted under; `signal`: its caller gone, the gets stop (#callReads).
   */
  async call<T>(fn: (hdk: Hdk) => T | Promise<T>, name = '-', signal?: AbortSignal): Promise<T> {
    let got = NOTHING_GOT
    let sofar = NO_ROUNDS
    const fetch = this.#callReads(name, signal)
    for (;;) {
      const turn = this.#queue.then(async () => {
        const attempt = await this.#attempt(fn, got, sofar)
        return attempt.kind === 'done' ? { ...attempt, committed: attempt.write.commit() } : attempt
      })
      this.#queue = turn.catch(() => undefined)
      const done = await turn
      if (done.kind === 'done') {
        if (done.committed.length > 0) {
          await this.#ctx.store.flush()
          this.#onCommitted?.(this, done.committed)
        }
        return done.result
      }
      got = mergeGot(got, await fetch(done.misses))
      sofar = afterRound(sofar, done.misses)
    }
  }

  /**
   * Runs `fn`, which only reads, at once: beside the queued calls, not behind them (a look-up does not
   * wait for signing or writes, nor stall them). It sees what is committed; a write throws, unstored.
   */
  async read<T>(fn: (hdk: Hdk) => T | Promise<T>, name = '-', signal?: AbortSignal): Promise<T> {
    let got = NOTHING_GOT
    let sofar = NO_ROUNDS
    const fetch = this.#callReads(name, signal)
    for (;;) {
      const done = await this.#attempt(fn, got, sofar)
      if (done.kind === 'done') {
        if (done.write.items.length > 0) throw new TypeError(`a read of ${this.dna.name} wrote to the chain`)
        return done.result
      }
      got = mergeGot(got, await fetch(done.misses))
      sofar = afterRound(sofar, done.misses)
    }
  }

  /**
   * The gets of one call, every round under one deadline, started at its first get, and under its
   * caller's `signal`: what each get is asked under. The call fails when either aborts, heeded or not:
   * with ReadsTimedOutError at the deadline, with the signal's reason once its caller went away.
   */
  #callReads(name: string, signal: AbortSignal | undefined): (misses: ReadMiss[]) => Promise<GotReads> {
    const ms = this.#readsDeadlineMs
    let deadline: AbortSignal | undefined
    let stop: AbortSignal | undefined
    return async (misses) => {
      signal?.throwIfAborted()
      deadline ??= AbortSignal.timeout(ms)
      stop ??= signal ? AbortSignal.any([signal, deadline]) : deadline
      try {
        return await untilAborted(this.#remote.fetch(this.dna.name, misses, stop, name), stop)
      } catch (err) {
        signal?.throwIfAborted()
        if (deadline.aborted) throw new ReadsTimedOutError(this.dna.name, ms, { cause: err })
        throw err
      }
    }
  }

  /** Runs `fn` once with what was got so far; a run that missed reads not yet asked (bounded) runs again. */
  async #attempt<T>(
    fn: (hdk: Hdk) => T | Promise<T>,
    got: GotReads,
    sofar: RoundsSoFar,
  ): Promise<Attempt<T>> {
    const write = this.chain.beginWrite()
    const reads = { remote: this.#remote, got, misses: [] as ReadMiss[] }
    let outcome: { ok: true; result: T } | { ok: false; error: unknown }
    try {
      outcome = { ok: true, result: await fn(new Hdk(this.#ctx, write, reads)) }
    } catch (error) {
      // A call that read nothing where records live elsewhere may have thrown for want of it.
      outcome = { ok: false, error }
    }
    const plan = planRound(sofar, reads.misses)
    if (plan.kind === 'fetch') return plan
    if (!outcome.ok) throw outcome.error
    return { kind: 'done', result: outcome.result, write }
  }
}
