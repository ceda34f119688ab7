/**
 * The requester's record of what it served: each answer's leaf (accepted only when the runner's proof
 * signs the output served, served-leaf.ts) joins this peer's open window once the runner's batch it
 * cites is held here, and the window is signed as one ServedBatch. A runner of version 2 sends its
 * batch beside the proof, and it is verified and stored here at once (as gossip's ops are: a forged
 * one warrants its carrier); a runner of release 0.1.0 sends none, and the leaf waits for gossip. A
 * leaf waits for its own runner's batch, never its window for every runner's, and a proof the rules
 * refuse is dropped by the leaf the rules name: a runner that lies loses only its own leaves. Never on
 * an answer's path.
 *
 * Cover (`coverSlotMs`): a peer signs its window of served requests at the end of every slot of that
 * grid whether it asked for anything or not (a slot with nothing gets one cover leaf), and its public
 * batch says no count (`SERVED_PUBLIC`): every member writes the same thing at the same times, so a
 * bystander cannot tell which member asked the runner whose batch it sees (README, "The record").
 */
import {
  type AnswerBatch,
  type EntryRecord,
  type ServedLeaf,
  servedLeavesOf,
} from '../../../zomes-bindings/index.ts'
import { payloadHash } from '../../identity/payload-hash.ts'
import type { CarriedOps, OpCarrier } from '../../interface/carried-ops.ts'
import type { ConductorPort } from '../../interface/conductor-port.ts'
import { InvalidEntryError, UnresolvedDependenciesError } from '../../interface/zome-refusal.ts'
import type { Logger } from '../../log/logger.ts'
import { BatchWindow } from './batch-window.ts'
import type { DirectRequest } from './direct-request.ts'
import type { SignedLeaf } from './direct-runner.ts'
import { checkLeafProof, coverLeaf, servedLeaf } from './served-leaf.ts'

export interface ServedRecordsInit {
  conductor: Pick<ConductorPort, 'agentPubKey' | 'callZome'>
  /** Verifies and stores the batch a runner carried beside its proof; null where ops cannot be taken so. */
  carrier?: Pick<OpCarrier, 'ingest'> | null
  /** Resolves once this peer holds an action (a runner's batch by gossip); without it nothing is awaited. */
  waitForAction?: (hash: string, timeoutMs: number) => Promise<boolean>
  /** How long a window of served requests stays open before it is signed (default 1 s). */
  batchWindowMs?: number
  /** Sign a window on every slot of this grid, one with no request included (cover), in place of `batchWindowMs`. */
  coverSlotMs?: number
  /** How long a leaf waits for the runner's batch its proof cites to reach this peer (default 30 s). */
  recordWaitMs?: number
  logger: Logger
}

/** A runner's leaf and proof, and the batch it cites when the runner carried it (version 2). */
export interface CarriedLeaf extends SignedLeaf {
  batch?: CarriedOps
}

const RECORD_WAIT_MS = 30_000
const CARRIED_KEPT = 64

export class ServedRecords {
  readonly #init: ServedRecordsInit
  /** Records being written, by request hash. */
  readonly #records = new Map<string, Promise<string | null>>()
  readonly #window: BatchWindow<ServedLeaf, string>
  /** Leaves waiting for the runner's batch they cite, until they join a window. */
  readonly #arriving = new Set<Promise<unknown>>()
  readonly #counts = { recorded: 0, unrecorded: 0 }
  /** The latest runners' batches carried here and held (a few: one a window per runner). */
  readonly #carried = new Set<string>()
  /** The runners' batches leaves were checked against (a few: a window's leaves cite the same). */
  readonly #batches = new Map<string, Promise<EntryRecord<AnswerBatch> | null | undefined>>()
  readonly #waitMs: number

  constructor(init: ServedRecordsInit) {
    this.#init = init
    this.#waitMs = init.recordWaitMs ?? RECORD_WAIT_MS
    this.#window = new BatchWindow({
      windowMs: init.coverSlotMs ?? init.batchWindowMs,
      everySlot: init.coverSlotMs !== undefined,
      seal: (leaves, openedAt, closedAt) => this.#seal(leaves, openedAt, closedAt),
    })
  }

  /** Starts signing a window on every slot (with `coverSlotMs`). */
  start(): void {
    this.#window.start()
  }

  /** Requests recorded, and those whose record could not be written, since start. */
  counts(): { recorded: number; unrecorded: number } {
    return { ...this.#counts }
  }

  /** Waits for the records still being written (at stop). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#arriving])
    await this.#window.flush()
    await Promise.allSettled([...this.#records.values()])
  }

  /** The Served record of a request this peer is still writing (resolves once written); else undefined. */
  recording(request: string): Promise<string | null> | undefined {
    return this.#records.get(request)
  }

  /** Records what was served in this peer's window once the runner's proof is here; null when it could not. */
  record(
    request: DirectRequest,
    hash: string,
    runner: string,
    output: unknown,
    signed: Promise<CarriedLeaf | null>,
  ): Promise<string | null> {
    const write = async (): Promise<string | null> => {
      const carried = await signed
      const leaf = servedLeaf({
        request: hash,
        requester: this.#init.conductor.agentPubKey,
        runner,
        model: request.model,
        outputHash: payloadHash(output),
        signed: carried,
      })
      // Settled once the leaf is in a window (so a stop waits for it before flushing), not once signed.
      const joined = this.#arrived(leaf, carried?.batch).then((held) => {
        if (!held.accepted)
          this.#init.logger.warn({ request: hash, runner, reason: held.reason }, 'served, not accepted')
        return { sealed: this.#window.add(held) }
      })
      const done = () => this.#arriving.delete(joined)
      this.#arriving.add(joined)
      joined.then(done, done)
      return (await (await joined).sealed).sealed
    }
    const recorded = write().then(
      (ref) => {
        this.#counts.recorded += 1
        return ref
      },
      (err: unknown) => {
        this.#counts.unrecorded += 1
        this.#init.logger.warn({ err, request: hash }, 'could not record the served request')
        return null
      },
    )
    this.#records.set(hash, recorded)
    void recorded.finally(() => this.#records.delete(hash))
    return recorded
  }

  /**
   * The leaf once the runner's batch it cites is held here (until then the rules cannot check the
   * proof): the batch the runner carried is stored at once; without it (or while what it builds on is
   * fetched) it comes by gossip, and when it does not come in time the leaf goes on without its proof,
   * not accepted. A carried batch that is refused costs the leaf its proof at once.
   */
  async #arrived(leaf: ServedLeaf, batch: CarriedOps | undefined): Promise<ServedLeaf> {
    const proof = leaf.proof
    if (proof === null) return leaf
    // A window's proofs all carry its batch: once held, the copies on its other proofs are duplicates.
    const carried =
      batch && !this.#carried.has(proof.batch)
        ? this.#init.carrier?.ingest('resource_mesh', batch, leaf.runner)
        : undefined
    if (carried === 'held') this.#heldNow(proof.batch)
    if (carried === 'refused')
      return this.#unproven(
        leaf,
        `runner ${leaf.runner}'s batch ${proof.batch}, carried with its proof, is invalid`,
      )
    // Held now when the runner carried the batch its proof cites: the wait answers at once.
    const wait = this.#init.waitForAction
    if (wait === undefined) return leaf
    if (!(await wait(proof.batch, this.#waitMs))) return this.#notArrived(leaf, true)
    return this.#checked(leaf)
  }

  /**
   * The leaf checked against the runner's batch it cites, held here, as the rules will check it
   * (served-leaf.ts): a lying proof is dropped here, once, before the window is signed, not by a
   * refusal that costs a seal of the whole window (issue 55, point 11). A check that cannot be made
   * leaves the judgment to the rules.
   */
  async #checked(leaf: ServedLeaf): Promise<ServedLeaf> {
    const proof = leaf.proof!
    let batch = this.#batches.get(proof.batch)
    if (batch === undefined) {
      batch = this.#init.conductor.callZome('resource_mesh', 'get_answer_batch', proof.batch).then(
        (record) => record,
        () => undefined,
      )
      this.#batches.set(proof.batch, batch)
      if (this.#batches.size > CARRIED_KEPT) this.#batches.delete(this.#batches.keys().next().value!)
    }
    const record = await batch
    if (record == null) return leaf
    const check = checkLeafProof(proof, record, leaf.runner)
    if (check.valid) return leaf
    // Said as a refusal by the rules is (#withoutRefused): it is their check, made before signing.
    const rule = proof.count !== record.entry.totals.count ? 'proof_count_mismatch' : 'proof_invalid'
    return this.#unproven(
      leaf,
      `the rules refused the runner's proof: ${rule}: ${check.reason} (found before signing)`,
    )
  }

  #heldNow(batch: string): void {
    this.#carried.add(batch)
    if (this.#carried.size > CARRIED_KEPT) this.#carried.delete(this.#carried.values().next().value!)
  }

  #notArrived(leaf: ServedLeaf, waited: boolean): ServedLeaf {
    const within = waited ? ` within ${this.#waitMs / 1000} s` : ''
    return this.#unproven(leaf, `runner ${leaf.runner}'s batch ${leaf.proof?.batch} never arrived${within}`)
  }

  /** The leaf without its proof, not accepted; a leaf already not accepted keeps what was found first. */
  #unproven(leaf: ServedLeaf, why: string): ServedLeaf {
    const reason = leaf.accepted ? why : `${leaf.reason}; ${why}`
    return { ...leaf, proof: null, accepted: false, reason: reason.slice(0, 1024) }
  }

  /**
   * Signs a window of served requests. A proof the rules refuse (a runner that gave a false root) is
   * dropped from the leaf the refusal names, which goes on record not accepted; a batch the rules miss
   * (none of this peer's waits brought it) costs the leaves citing it their proofs. Any other refusal
   * is this peer's own doing: the window fails.
   */
  async #seal(leaves: ServedLeaf[], openedAt: number, closedAt: number): Promise<string> {
    const cover = leaves.length === 0
    for (let window = cover ? [coverLeaf(this.#init.conductor.agentPubKey)] : leaves; ; ) {
      try {
        const ref = await this.#init.conductor.callZome('resource_mesh', 'record_served_batch', {
          leaves: servedLeavesOf(window),
          opened_at: openedAt,
          closed_at: closedAt,
        })
        return ref.batch
      } catch (err) {
        if (cover) this.#coverFailed(err)
        window = this.#withoutRefused(window, err)
      }
    }
  }

  /**
   * A slot's cover not signed. A peer whose record the rules refuse (one that joined as a worker,
   * which asks for nothing) stops: its cover would be refused at every slot.
   */
  #coverFailed(err: unknown): void {
    if (!(err instanceof InvalidEntryError)) {
      this.#init.logger.debug({ err }, 'could not sign this slot’s cover')
      return
    }
    this.#window.stopSchedule()
    this.#init.logger.info(
      { err },
      'this peer signs no cover: the rules refuse its record of served requests',
    )
  }

  /** The window without the proofs the refusal `err` is about; rethrows it when it is about none. */
  #withoutRefused(window: ServedLeaf[], err: unknown): ServedLeaf[] {
    if (err instanceof UnresolvedDependenciesError) {
      const missing = window.filter((l) => l.proof !== null && err.deps.includes(l.proof.batch))
      if (missing.length === 0) throw err
      return window.map((l) => (missing.includes(l) ? this.#notArrived(l, false) : l))
    }
    const refused = err instanceof InvalidEntryError && err.leaf !== null ? window[err.leaf] : undefined
    if (refused === undefined || refused.proof === null) throw err
    const reason = `the rules refused the runner's proof: ${(err as Error).message}`
    return window.map((l) => (l === refused ? this.#unproven(l, reason) : l))
  }
}
