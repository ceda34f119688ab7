/**
 * Ingest of an op this peer keeps out of chain order (a held op, issue 57: an everywhere op, or a
 * neighbourhood op of its basis, of an author whose chain it does not keep). Checked as a get from
 * holders checks one (fetched-op-check.ts): the signature, the entry against its hash, its place after
 * its previous action where that is held here, and the rules, with what they read got from holders
 * (`beside`) when it is not held here; not its chain's continuity, which its author's activity holders
 * check. Blame as ingest's: what the author did not sign convicts the sender, what it signed and the
 * rules refuse convicts the author. Two actions of one author at one seq that build on the same action
 * are a proven fork; one at a seq held here that builds on another action is not proof (the DNA hash
 * on the wire is not signed: a replay from another DNA), and is dropped, unless it builds on the
 * action at the seq before in this peer's chain of its author and the held one there does not: then
 * the held one is the replay, and gives way. Held ops become part of their chain when it reaches them
 * (`promoteAfter`).
 */
import type { Action } from '@holochain/client'
import { hashesEqual } from '../../../identity/hash.ts'
import type { ChainHead, ChainStore, StoredEntry } from '../../../storage/chain-store.ts'
import { actionSeq, decodeAction, prevActionOf, toCommitItem } from '../action.ts'
import type { Cell } from '../cell.ts'
import { checkChainAction } from '../chain-verify.ts'
import type { RecordBeside } from '../validation/record-rules.ts'
import { checkFetchedOp } from './fetched-op-check.ts'
import type { IngestResult, OpOutcome } from './ingest-result.ts'
import type { WireOp } from './op-wire.ts'

/** How an action at a taken seq was judged: an outcome, or the held row there dropped for it. */
export type SeqJudged = OpOutcome | 'gave way'

export interface HeldOpsInit {
  store: ChainStore
  /** Warranted or revoked here: its ops are ignored. */
  barred: (author: Uint8Array) => boolean
  /** Drops the op and warrants `offender` (ingest's reject). */
  reject: (
    offender: Uint8Array | null,
    cell: Cell,
    hash: Uint8Array,
    rule: string,
    reason: string,
  ) => 'rejected'
  /** Its author was revoked before it wrote it: ignored, as ingest ignores such ops. */
  revokedWhen: (cell: Cell, author: Uint8Array, action: Action) => boolean
  /** This peer keeps the op's chain (op-placement.ts says `chain`): what may be promoted into it. */
  keepsChain: (cell: Cell, action: Action, hash: Uint8Array) => boolean
  /** A revocation or legacy seal it writes is taken into account (ingest's). */
  noteRevocation: (cell: Cell, action: Action, entry: StoredEntry | null) => void
}

export class HeldOps {
  readonly #init: HeldOpsInit

  constructor(init: HeldOpsInit) {
    this.#init = init
  }

  /**
   * Checks and holds `op` (its hash `hash`), into `result`; one whose rules read what is not here
   * (beside `beside`) is listed in `result.needs` and counted pending.
   */
  hold(
    cell: Cell,
    op: WireOp,
    hash: Uint8Array,
    sender: Uint8Array | null,
    result: IngestResult,
    beside: readonly RecordBeside[] = [],
  ): OpOutcome {
    const { store, reject } = this.#init
    const verdict = checkFetchedOp({ cell, store, barred: this.#init.barred, beside }, op, hash)
    switch (verdict.kind) {
      case 'holder':
        return reject(sender, cell, hash, verdict.rule, verdict.reason)
      case 'author':
        return reject(verdict.author, cell, hash, verdict.rule, verdict.reason)
      case 'unchecked':
        if (verdict.needs === undefined) return 'ignored'
        result.needs.push({ cell, op, sender, needs: verdict.needs })
        return 'pending'
    }
    const { action, entry, stored } = verdict
    if (store.actionAt(cell.dnaHash, action.author, actionSeq(action)) !== null) {
      const judged = this.judgeSeqTaken(cell, action, hash)
      if (judged !== 'gave way') return judged
    }
    if (this.#init.revokedWhen(cell, action.author, action)) return 'ignored'
    store.holdOps([toCommitItem(action, stored, entry)])
    result.stored.push({ ...stored, held: true })
    this.#init.noteRevocation(cell, action, entry)
    return 'stored'
  }

  /**
   * `action` (hash `hash`) at a seq of its author's chain where another action is stored here: a proven
   * fork when both build on the same action (the author is warranted); the held row there dropped
   * ('gave way', for the caller to store `action`) when `action` builds on this peer's chain and it does
   * not; else `action` is dropped (not proof).
   */
  judgeSeqTaken(cell: Cell, action: Action, hash: Uint8Array): SeqJudged {
    const { store } = this.#init
    const seq = actionSeq(action)
    const there = store.actionAt(cell.dnaHash, action.author, seq)
    if (there === null) return 'ignored'
    if (hashesEqual(there.hash, hash)) return 'duplicate'
    const prev = prevActionOf(action)
    const therePrev = prevActionOf(decodeAction(there.bytes))
    if (prev !== null && therePrev !== null && hashesEqual(prev, therePrev))
      return this.#init.reject(
        action.author,
        cell,
        hash,
        'chain.fork',
        `a second action at seq ${seq} of its chain`,
      )
    // Only a chain row is known to be of this DNA (checked from its genesis on): a held one before
    // it may be a replay too, and would let a replay push out the real action.
    const before = seq > 0 ? store.actionAt(cell.dnaHash, action.author, seq - 1) : null
    const chained = (p: Uint8Array | null) => before !== null && p !== null && hashesEqual(p, before.hash)
    const replayed = there.held === true && before?.held !== true && chained(prev) && !chained(therePrev)
    return replayed && store.dropHeld(there.hash) ? 'gave way' : 'ignored'
  }

  /**
   * The held ops that follow `head` in `author`'s chain become part of it (this peer became the
   * author's activity holder, or held them before their predecessors came), each checked in its place.
   */
  promoteAfter(cell: Cell, author: Uint8Array, head: ChainHead): void {
    const { store } = this.#init
    for (;;) {
      const next = store.actionAt(cell.dnaHash, author, head.seq + 1)
      if (next?.held !== true) return
      const action = decodeAction(next.bytes)
      if (!hashesEqual(prevActionOf(action)!, head.hash) || !this.#init.keepsChain(cell, action, next.hash))
        return
      const prev = { hash: head.hash, timestamp: store.getAction(head.hash)!.timestamp }
      const misplaced = checkChainAction(action, next, { dnaHash: cell.dnaHash, author, seq: next.seq, prev })
      if (misplaced !== null) {
        this.#init.reject(author, cell, next.hash, 'chain.action', misplaced)
        return
      }
      const entry = next.entryHash && store.getEntry(next.entryHash)
      store.appendToChain(cell.dnaHash, author, head.hash, [toCommitItem(action, next, entry)])
      head = { hash: next.hash, seq: next.seq }
    }
  }
}
