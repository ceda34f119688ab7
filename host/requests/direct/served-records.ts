/**
 * The requester's record of what it served: each answer's leaf (accepted only when the runner's proof
 * signs the output served, served-leaf.ts) joins this peer's open window once the runner's batch it
 * cites is here, and the window is signed as one ServedBatch. A leaf waits for its own runner's batch,
 * never its window for every runner's: a runner that cites a batch it never publishes loses only its
 * own leaves. Never on an answer's path.
 */
import { type ServedLeaf, servedLeavesOf } from '../../../zomes-bindings/index.ts'
import type { ConductorPort } from '../../interface/conductor-port.ts'
import { InvalidEntryError, UnresolvedDependenciesError } from '../../interface/zome-refusal.ts'
import type { Logger } from '../../log/logger.ts'
import { payloadHash } from '../../scheduler/payload-hash.ts'
import { BatchWindow } from './batch-window.ts'
import type { DirectRequest } from './direct-request.ts'
import type { SignedLeaf } from './direct-runner.ts'
import { servedLeaf } from './served-leaf.ts'

export interface ServedRecordsInit {
  conductor: Pick<ConductorPort, 'agentPubKey' | 'callZome'>
  /** Resolves once this peer holds an action (the runner's batch); without it the record polls. */
  waitForAction?: (hash: string, timeoutMs: number) => Promise<boolean>
  /** How long a window of served requests stays open before it is signed (default 1 s). */
  batchWindowMs?: number
  /** How long a leaf waits for the runner's batch its proof cites to reach this peer (default 30 s). */
  recordWaitMs?: number
  logger: Logger
}

const RECORD_WAIT_MS = 30_000
const RECORD_RETRY_MS = 100
/** The rules' refusals of a runner's proof (any other refusal of a window is this peer's own doing). */
const PROOF_RULES = new Set(
  [
    'proof_invalid',
    'proof_count_mismatch',
    'runner_is_batch_author',
    'batch_type',
    'leaf_request_mismatch',
    'output_mismatch',
    'answer_status_mismatch',
  ].map((name) => `served_leaves.${name}`),
)

export class ServedRecords {
  readonly #init: ServedRecordsInit
  /** Records being written, by request hash. */
  readonly #records = new Map<string, Promise<string | null>>()
  readonly #window: BatchWindow<ServedLeaf, string>
  /** Leaves waiting for the runner's batch they cite, until they join a window. */
  readonly #arriving = new Set<Promise<unknown>>()
  readonly #counts = { recorded: 0, unrecorded: 0 }
  readonly #waitMs: number

  constructor(init: ServedRecordsInit) {
    this.#init = init
    this.#waitMs = init.recordWaitMs ?? RECORD_WAIT_MS
    this.#window = new BatchWindow({
      windowMs: init.batchWindowMs,
      seal: (leaves, openedAt, closedAt) => this.#seal(leaves, openedAt, closedAt),
    })
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
    signed: Promise<SignedLeaf | null>,
  ): Promise<string | null> {
    const write = async (): Promise<string | null> => {
      const leaf = servedLeaf({
        request: hash,
        requester: this.#init.conductor.agentPubKey,
        runner,
        model: request.model,
        outputHash: payloadHash(output),
        signed: await signed,
      })
      // Settled once the leaf is in a window (so a stop waits for it before flushing), not once signed.
      const joined = this.#arrived(leaf).then((held) => {
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
   * The leaf once the runner's batch it cites is here (it travels by gossip; until then the rules cannot
   * check the proof), or, when it does not come in time, the leaf without its proof, not accepted.
   */
  async #arrived(leaf: ServedLeaf): Promise<ServedLeaf> {
    const wait = this.#init.waitForAction
    if (leaf.proof === null || wait === undefined) return leaf
    return (await wait(leaf.proof.batch, this.#waitMs)) ? leaf : this.#notArrived(leaf)
  }

  #notArrived(leaf: ServedLeaf): ServedLeaf {
    const missing = `runner ${leaf.runner}'s batch ${leaf.proof?.batch} never arrived within ${this.#waitMs / 1000} s`
    // A leaf already not accepted keeps what was found first.
    const reason = leaf.accepted ? missing : `${leaf.reason}; ${missing}`
    return { ...leaf, proof: null, accepted: false, reason: reason.slice(0, 1024) }
  }

  /**
   * Signs a window of served requests. Without `waitForAction` the rules say which runners' batches are
   * not here yet: the window is tried again until the deadline, then only the leaves citing them go on
   * record without their proofs. A proof the rules refuse (a runner that gave a false root) is recorded
   * as not accepted, without it.
   */
  async #seal(leaves: ServedLeaf[], openedAt: number, closedAt: number): Promise<string> {
    const deadline = Date.now() + this.#waitMs
    for (let window = leaves; ; ) {
      try {
        const ref = await this.#init.conductor.callZome('resource_mesh', 'record_served_batch', {
          leaves: servedLeavesOf(window),
          opened_at: openedAt,
          closed_at: closedAt,
        })
        return ref.batch
      } catch (err) {
        const proven = window.filter((l) => l.proof !== null)
        if (err instanceof UnresolvedDependenciesError && proven.length > 0) {
          if (Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, RECORD_RETRY_MS))
            continue
          }
          const cited = proven.filter((l) => err.deps.includes(l.proof!.batch))
          const missing = new Set(cited.length > 0 ? cited : proven)
          window = window.map((l) => (missing.has(l) ? this.#notArrived(l) : l))
          continue
        }
        if (!(err instanceof InvalidEntryError) || !PROOF_RULES.has(err.rule) || proven.length === 0)
          throw err
        // The request the refusal names, else the batch, else every proof of the window: none is
        // accepted unproven, and the next refusal (if any) names the next.
        const byRequest = proven.filter((l) => err.detail.includes(l.request))
        const byBatch = proven.filter((l) => err.detail.includes(l.proof!.batch))
        const refused = new Set(byRequest.length > 0 ? byRequest : byBatch.length > 0 ? byBatch : proven)
        const reason = `the rules refused the runner's proof: ${err.message}`.slice(0, 1024)
        window = window.map((l) => (refused.has(l) ? { ...l, proof: null, accepted: false, reason } : l))
      }
    }
  }
}
