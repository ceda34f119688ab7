/**
 * Every op a peer receives passes here before it is stored: ignored if already held, from this agent,
 * or from a warranted author; then the signature, the chain continuity against what is held of the
 * author's chain, the entry against its hash, and the rules wasm through the same path the local
 * writer uses. An op that comes too early (a gap in the chain, a dependency not held yet) waits and
 * is retried as new ops arrive (pending-ops.ts); any other failure drops it and warrants the agent to
 * blame.
 *
 * Who is to blame: what the author signed (the action content, its place in the chain, the entry it
 * commits to) convicts the author; what it did not sign (a bad signature, entry bytes that do not
 * match, garbage) convicts the sender, the peer that delivered it, never the claimed author. A
 * chain break is only proof against the author when the op provably belongs to this DNA's chain
 * (it extends an action we hold) or the author delivered it itself: the DNA hash on the wire is not
 * signed, so anyone could replay an author's op of another DNA here to frame it.
 *
 * An op claiming to be this agent's is never stored (its chains are written by its own cells): one
 * this agent did not sign, or a second action at a seq of its own chain (a fork it never made),
 * convicts the sender, as any other peer would convict it. Warrants are one per agent and rule: a
 * flood of bad ops leaves one row, not one per op.
 *
 * A revoked agent (revocations.ts) is no offender: the ops it authored from its revocation on are
 * ignored, not warranted, and so is the rest of its chain after the first such op.
 */
import type { Action } from '@holochain/client'
import { decodeMsgpack } from '../../../identity/canonical.ts'
import { encodeHashB64, hashContent, hashesEqual } from '../../../identity/hash.ts'
import { verifyAgentSignature } from '../../../identity/keystore.ts'
import type { Logger } from '../../../log/logger.ts'
import { nowMicros } from '../../../runtime/clock.ts'
import { type ChainStore, SeqTakenError, type StoredEntry } from '../../../storage/chain-store.ts'
import { actionSeq, prevActionOf, toCommitItem, toStoredAction } from '../action.ts'
import type { Cell } from '../cell.ts'
import { checkActionPayload, checkChainAction } from '../chain-verify.ts'
import { ActionTypes } from '../hc-enums.ts'
import { inviteIdOf } from '../validation/membrane-proof.ts'
import { type RecordBeside, storeRecords } from '../validation/record-rules.ts'
import { HeldOps } from './held-ingest.ts'
import { emptyResult, type HeldNeed, type IngestResult, type OpOutcome } from './ingest-result.ts'
import type { LegacySeals } from './legacy-seals.ts'
import { entryOf, judgeByRules, type RulesVerdict } from './op-checks.ts'
import type { Keep } from './op-placement.ts'
import type { OpBatch, WireOp } from './op-wire.ts'
import { judgeOwnClaim } from './own-claims.ts'
import { type PendingOp, PendingOps } from './pending-ops.ts'
import { RevocationList, revocationWritten } from './revocations.ts'
import { parseActionContent, readClaimedAuthor } from './signed-action.ts'
import { WarrantBook } from './warrant-book.ts'

export type { HeldNeed, IngestResult, OpOutcome } from './ingest-result.ts'

export interface OpIngestInit {
  store: ChainStore
  cells: readonly Cell[]
  /** This agent: its chains are written by its own cells, never from the network. */
  self: Uint8Array
  logger: Logger
  /** Most ops held waiting at once; beyond it they are dropped (catch-up brings them later). */
  maxPending?: number
  /** Microseconds since the epoch, for warrant timestamps. */
  now?: () => number
  /** The revocations held (default: none yet); ingest adds those it stores. */
  revocations?: RevocationList
  /** Called when a revocation is stored, and when an op is ignored because its author is revoked. */
  onRevoked?: (agent: string | null) => void
  /** The legacy seals held; ingest adds those it stores. */
  seals?: LegacySeals
  /**
   * How this peer keeps an op (op-placement.ts): in its chain, held out of chain order, or not at all
   * (dropped without blame). Default: every op in its chain (records not sharded).
   */
  place?: (cell: Cell, action: Action, hash: Uint8Array) => Keep
}

/** A batch of ops and the agent of the peer that delivered it (null when its key is not an agent key). */
export interface Delivery {
  batch: OpBatch
  sender: Uint8Array | null
  /**
   * Kept at least held whatever placement says: ops carried here for this peer to check (a runner's
   * batch beside its proof), which it is a party to, holder or not.
   */
  kept?: boolean
}

const DEFAULT_MAX_PENDING = 10_000
const NOT_SIGNED = 'the signature does not verify against the author key'

export class OpIngest {
  readonly #store: ChainStore
  readonly #cells = new Map<string, Cell>()
  readonly #self: Uint8Array
  readonly #logger: Logger
  readonly #warrants: WarrantBook
  readonly #pending: PendingOps
  readonly #revocations: RevocationList
  readonly #onRevoked: (agent: string | null) => void
  readonly #seals: LegacySeals | undefined
  readonly #place: ((cell: Cell, action: Action, hash: Uint8Array) => Keep) | undefined
  readonly #held: HeldOps
  /** Authors with an op refused for their revocation: the rest of their chains follow it. */
  readonly #revoked = new Set<string>()

  constructor(init: OpIngestInit) {
    this.#store = init.store
    for (const cell of init.cells) this.#cells.set(encodeHashB64(cell.dnaHash), cell)
    this.#self = init.self
    this.#logger = init.logger
    this.#pending = new PendingOps(init.maxPending ?? DEFAULT_MAX_PENDING)
    this.#warrants = new WarrantBook(init.store, init.self, init.now ?? nowMicros)
    this.#revocations = init.revocations ?? new RevocationList()
    this.#onRevoked = init.onRevoked ?? (() => {})
    this.#seals = init.seals
    this.#place = init.place
    this.#held = new HeldOps({
      store: init.store,
      barred: (author) => this.isWarranted(author) || this.#revoked.has(encodeHashB64(author)),
      reject: (offender, cell, hash, rule, reason) => this.#reject(offender, cell, hash, rule, reason),
      revokedWhen: (cell, author, action) => this.#refusedAsRevoked(cell, author, action),
      noteRevocation: (cell, action, entry) => this.noteRevocation(cell, action, entry),
      keepsChain: (cell, action, hash) => (this.#place?.(cell, action, hash) ?? 'chain') === 'chain',
    })
  }

  /** The cell of a DNA hash this conductor runs, or undefined. */
  cellOf(dnaHash: Uint8Array): Cell | undefined {
    return this.#cells.get(encodeHashB64(dnaHash))
  }

  /** Warrants `offender` for something the host found (not an op), e.g. an artifact's wrong sha256. */
  warrant(
    offender: Uint8Array,
    dnaHash: Uint8Array,
    actionHash: Uint8Array,
    rule: string,
    reason: string,
  ): void {
    const cell = this.cellOf(dnaHash)
    if (cell !== undefined) this.#reject(offender, cell, actionHash, rule, reason)
  }

  isWarranted(agent: Uint8Array | string): boolean {
    return this.#warrants.has(agent)
  }

  /** True once an op of `agent` (HoloHashB64) was ignored for its revocation (its genesis, maybe). */
  wasRefusedAsRevoked(agent: string): boolean {
    return this.#revoked.has(agent)
  }

  get pendingCount(): number {
    return this.#pending.size
  }

  /**
   * Checks and stores the ops of a batch, in order, in one store transaction. `sender` is the agent
   * of the peer that delivered them (null when its key is not an agent key).
   */
  receive(batch: OpBatch, sender: Uint8Array | null): IngestResult {
    return this.#store.transaction(() => this.#receive(batch, sender))
  }

  /**
   * `receive` for several deliveries, in order, in one store transaction: one commit for the batches
   * of a burst, where each cost one. One that throws (a store failure) takes back all of them: what was
   * taken back is fetched again, as after a power cut.
   */
  receiveAll(deliveries: readonly Delivery[]): IngestResult[] {
    return this.#store.transaction(() =>
      deliveries.map(({ batch, sender, kept }) => this.#receive(batch, sender, kept === true)),
    )
  }

  /** A held op judged again with what its rules read got from holders (`beside`), in one transaction. */
  receiveHeld(need: HeldNeed, beside: readonly RecordBeside[]): IngestResult {
    const result = emptyResult()
    return this.#store.transaction(() => {
      const hash = hashContent(need.op.action, 'action')
      const outcome = need.chain
        ? this.#ingest(need.cell, need.op, need.sender, result, false, false, beside)
        : this.#held.hold(need.cell, need.op, hash, need.sender, result, beside)
      // Still short of what it reads: dropped, not chased (held-needs.ts).
      result.counts[outcome === 'pending' ? 'ignored' : outcome]++
      result.needs.length = 0
      if (result.stored.length > 0) this.#retryPending(result)
      return result
    })
  }

  #receive(batch: OpBatch, sender: Uint8Array | null, kept = false): IngestResult {
    const result = emptyResult()
    const cell = this.cellOf(batch.dnaHash)
    if (cell === undefined || (sender !== null && this.isWarranted(sender))) {
      result.counts.ignored += batch.ops.length
      return result
    }
    // Never flushed: what a power cut loses, anti-entropy fetches again.
    for (const op of batch.ops) {
      // A sender warranted by an earlier op of this batch: the rest of it is ignored too.
      const outcome =
        sender !== null && this.isWarranted(sender)
          ? 'ignored'
          : this.#ingest(cell, op, sender, result, false, kept)
      result.counts[outcome]++
    }
    if (result.stored.length > 0) this.#retryPending(result)
    return result
  }

  /**
   * `verified`: a waiting op tried again (every op waits only once its signature verified). `kept`:
   * kept at least held (Delivery.kept).
   */
  #ingest(
    cell: Cell,
    op: WireOp,
    sender: Uint8Array | null,
    result: IngestResult,
    verified = false,
    kept = false,
    beside: readonly RecordBeside[] = [],
  ): OpOutcome {
    const hash = hashContent(op.action, 'action')
    const existing = this.#store.getAction(hash)
    // A held op is taken again only to become part of its chain here.
    if (existing !== null && existing.held !== true) return 'duplicate'
    const claimed = readClaimedAuthor(op.action)
    if (claimed === null)
      return this.#reject(sender, cell, hash, 'sys.malformed', 'not an action of any author')
    const { author } = claimed
    if (hashesEqual(author, this.#self)) {
      const blameSender = (rule: string, reason: string) => this.#reject(sender, cell, hash, rule, reason)
      return judgeOwnClaim({ store: this.#store, self: this.#self, cell, blameSender }, op, claimed.content)
    }
    if (this.isWarranted(author) || this.#revoked.has(encodeHashB64(author))) return 'ignored'
    const parsed = parseActionContent(claimed.content)
    // An unreadable action: the chain path below judges it and blames whom it should.
    const placed =
      'problem' in parsed || this.#place === undefined ? 'chain' : this.#place(cell, parsed.action, hash)
    const keep = placed ?? (kept ? 'held' : null)
    if (keep === null) return 'ignored'
    if (existing !== null && keep !== 'chain') return 'duplicate'
    if (keep === 'held') return this.#held.hold(cell, op, hash, sender, result, beside)
    if (!verified && !verifyAgentSignature(author, op.action, op.signature))
      return this.#reject(sender, cell, hash, 'sys.signature', NOT_SIGNED)
    if ('problem' in parsed) return this.#reject(author, cell, hash, 'sys.action_shape', parsed.problem)
    const action = parsed.action
    // Another DNA's chain (its genesis names that DNA): misrouted, not wrong.
    if (action.type === ActionTypes.Dna && !hashesEqual(action.hash, cell.dnaHash)) return 'ignored'

    const seq = actionSeq(action)
    const head = this.#store.chainHead(cell.dnaHash, author)
    const next = head === null ? 0 : head.seq + 1
    if (seq > next) return this.#hold(cell, author, seq, { op, sender }, result)
    const byAuthor = sender !== null && hashesEqual(sender, author)
    if (seq < next) {
      if (this.#forksChain(cell, author, action, hash))
        return this.#reject(author, cell, hash, 'chain.fork', `a second action at seq ${seq} of its chain`)
      return 'ignored'
    }
    let prev: { hash: Uint8Array; timestamp: number } | null = null
    if (head !== null) {
      if (!hashesEqual(prevActionOf(action)!, head.hash)) {
        if (byAuthor)
          return this.#reject(author, cell, hash, 'chain.prev_action', 'it does not extend its chain')
        return 'ignored'
      }
      prev = { hash: head.hash, timestamp: this.#store.getAction(head.hash)!.timestamp }
    }

    if (this.#refusedAsRevoked(cell, author, action)) return 'ignored'
    const row = toStoredAction(
      { hash, content: action, bytes: op.action, signature: op.signature },
      cell.dnaHash,
    )
    const misplaced = checkChainAction(action, row, { dnaHash: cell.dnaHash, author, seq, prev })
    if (misplaced !== null) return this.#reject(author, cell, hash, 'chain.action', misplaced)
    const entry = entryOf(action, op.entry)
    const item = toCommitItem(action, row, entry)
    const payload = checkActionPayload(action, { entry, link: item.link ?? null })
    if (payload !== null) return this.#reject(sender, cell, hash, 'sys.entry', payload)
    let verdict: RulesVerdict
    try {
      verdict = judgeByRules(cell, action, entry, beside)
    } catch (err) {
      // A trap in the rules is our failure, not proof against the author: drop the op, keep the peer.
      this.#logger.error({ err, action: encodeHashB64(hash) }, 'validating a received op failed')
      return 'ignored'
    }
    if (verdict.kind === 'waits') {
      // Once sharded, what it reads may live only at its holders, not this activity holder: got there.
      // A member's genesis is nobody's to ask for: it arrives with membership, and the op is tried again.
      if (verdict.members.length === 0)
        result.needs.push({ cell, op, sender, needs: verdict.needs, chain: true })
      return this.#hold(cell, author, seq, { op, sender }, result)
    }
    if (verdict.kind === 'invalid') return this.#reject(author, cell, hash, verdict.rule, verdict.reason)
    try {
      this.#store.appendToChain(cell.dnaHash, author, head?.hash ?? null, [item])
    } catch (err) {
      if (!(err instanceof SeqTakenError)) throw err
      // A held action of another hash at this seq: a fork, a replay that gave way, or not proof of one.
      const judged = this.#held.judgeSeqTaken(cell, action, hash)
      return judged === 'gave way' ? this.#ingest(cell, op, sender, result, true, kept, beside) : judged
    }
    // Promoted from held: stored before, not news.
    if (existing === null) result.stored.push(row)
    this.noteRevocation(cell, action, entry)
    this.#held.promoteAfter(cell, author, { hash, seq })
    return existing === null ? 'stored' : 'duplicate'
  }

  /** Adds the revocation or legacy seal `action` wrote, if any (a stored op, or a commit of this agent). */
  noteRevocation(cell: Cell, action: Action, entry: StoredEntry | null): void {
    this.#seals?.note(cell.dna, action, entry)
    const revocation = revocationWritten(cell.dna, action, entry)
    if (revocation !== null && this.#revocations.add(revocation, action.timestamp)) this.#onRevoked(null)
  }

  /** True when `action` is refused for its author's revocation (noted: the rest of its chain follows). */
  #refusedAsRevoked(cell: Cell, author: Uint8Array, action: Action): boolean {
    if (!this.#authoredWhileRevoked(cell, author, action)) return false
    this.#revoked.add(encodeHashB64(author))
    this.#onRevoked(encodeHashB64(author))
    return true
  }

  /** The author is revoked (by name, or by the invite its genesis carries) since before this action. */
  #authoredWhileRevoked(cell: Cell, author: Uint8Array, action: Action): boolean {
    if (this.#revocations.size === 0) return false
    let proof: unknown = null
    try {
      proof =
        action.type === ActionTypes.AgentValidationPkg
          ? action.membrane_proof && decodeMsgpack(action.membrane_proof)
          : storeRecords(this.#store, cell.dnaHash).genesisProof(author)
    } catch {
      // Unreadable: the rules refuse such a genesis anyway.
    }
    return this.#revocations.refuses(encodeHashB64(author), inviteIdOf(proof), action.timestamp)
  }

  /** True when `action` (at a seq we hold) is not ours there and builds on the same action (seq 0: the Dna action, naming this DNA already): a proven fork. */
  #forksChain(cell: Cell, author: Uint8Array, action: Action, hash: Uint8Array): boolean {
    const seq = actionSeq(action)
    const ours = this.#store.chainRange(cell.dnaHash, author, Math.max(0, seq - 1), 2)
    // Ours again proves nothing, nor its author sending another (the DNA on the wire is not signed).
    if (ours.at(-1)?.seq !== seq || hashesEqual(ours.at(-1)!.hash, hash)) return false
    return seq === 0 || hashesEqual(prevActionOf(action)!, ours[0]!.hash)
  }

  #hold(cell: Cell, author: Uint8Array, seq: number, pending: PendingOp, result: IngestResult): OpOutcome {
    result.waiting = true
    this.#pending.hold(cell, author, seq, pending)
    return 'pending'
  }

  /** Retries the waiting ops that what was just stored may unblock. */
  #retryPending(result: IngestResult): void {
    this.#pending.retry(
      (cell, author) => this.#store.chainHead(cell.dnaHash, author),
      (cell, { op, sender }) => {
        const outcome = this.#ingest(cell, op, sender, result, true)
        // Counted as pending when it came; only how it ends now is news.
        if (outcome !== 'pending') result.counts[outcome]++
        return outcome === 'stored'
      },
    )
  }

  /** Drops the op and warrants `offender` (nobody when the sender's key is not an agent key). */
  #reject(
    offender: Uint8Array | null,
    cell: Cell,
    actionHash: Uint8Array,
    rule: string,
    reason: string,
  ): 'rejected' {
    if (offender === null) {
      this.#logger.warn({ rule, reason, dna: cell.dna.name }, 'dropped an invalid op from an unknown peer')
      return 'rejected'
    }
    // Already warranted for this: one row (and one log line) per agent and rule, however many ops.
    if (!this.#warrants.issue(offender, cell.dnaHash, actionHash, rule, reason)) return 'rejected'
    this.#pending.dropAuthor(offender)
    this.#logger.warn(
      {
        warranted: encodeHashB64(offender),
        dna: cell.dna.name,
        rule,
        reason,
        action: encodeHashB64(actionHash),
      },
      'invalid op dropped; the agent to blame is warranted',
    )
    return 'rejected'
  }
}
