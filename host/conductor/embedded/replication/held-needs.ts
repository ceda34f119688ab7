/**
 * What a held op's rules read and this peer does not hold (an update's original, a reply's parent):
 * got from its own holders (holder-get.ts, checked), then the op is judged again beside it
 * (OpIngest.receiveHeld). Bounded: a few at once, a queue of MAX_QUEUED beyond which needs are
 * dropped (anti-entropy within the neighbourhood brings the op again); one judged again that still
 * needs more is dropped, not chased.
 */
import { decodeHashB64, encodeHashB64, hashContent } from '../../../identity/hash.ts'
import type { Logger } from '../../../log/logger.ts'
import { toStoredAction } from '../action.ts'
import type { RecordBeside } from '../validation/record-rules.ts'
import type { HolderGet } from './holder-get.ts'
import type { HeldNeed, IngestResult } from './ingest-result.ts'

export interface HeldNeedsInit {
  holderGet: Pick<HolderGet, 'get'>
  /** Judges the op again beside what was got (null: not taken in, replication stopping). */
  receive: (need: HeldNeed, beside: RecordBeside[]) => IngestResult | null
  logger: Logger
  signal: AbortSignal
}

/** Needs resolved at once. */
export const HELD_NEEDS_AT_ONCE = 4
/** Needs waiting beyond those. */
export const MAX_QUEUED = 256

export class HeldNeeds {
  readonly #init: HeldNeedsInit
  readonly #queue: HeldNeed[] = []
  /** The ops (action hash B64) queued or running: an op waiting in a chain is listed at every retry. */
  readonly #open = new Set<string>()
  #running = 0

  constructor(init: HeldNeedsInit) {
    this.#init = init
  }

  /** Queued now, running or waiting. */
  get size(): number {
    return this.#queue.length + this.#running
  }

  take(needs: readonly HeldNeed[]): void {
    for (const need of needs) {
      const key = encodeHashB64(hashContent(need.op.action, 'action'))
      if (this.#queue.length >= MAX_QUEUED || this.#open.has(key)) continue
      this.#open.add(key)
      this.#queue.push(need)
    }
    while (this.#running < HELD_NEEDS_AT_ONCE && this.#queue.length > 0) void this.#run(this.#queue.shift()!)
  }

  async #run(need: HeldNeed): Promise<void> {
    this.#running++
    try {
      const beside: RecordBeside[] = []
      for (const hash of need.needs) {
        const got = await this.#init.holderGet.get(need.cell.dna.name, hash, this.#init.signal)
        const signed = {
          hash: decodeHashB64(hash, 'action'),
          content: got.action,
          bytes: got.op.action,
          signature: got.op.signature,
        }
        beside.push({ action: toStoredAction(signed, need.cell.dnaHash), entry: got.entry })
      }
      this.#init.receive(need, beside)
    } catch (err) {
      if (!this.#init.signal.aborted)
        this.#init.logger.debug({ err }, 'what a held op builds on was not got; it is dropped for now')
    } finally {
      this.#open.delete(encodeHashB64(hashContent(need.op.action, 'action')))
      this.#running--
      this.take([])
    }
  }
}
