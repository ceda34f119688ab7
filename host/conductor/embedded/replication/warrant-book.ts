/**
 * The warrants this peer issued: kept in the chain store, one per agent and rule (a flood of bad ops
 * leaves one row, not one per op), and known at once, since the ingest ignores a warranted author's ops.
 */
import { encodeHashB64 } from '../../../identity/hash.ts'
import type { ChainStore, Warrant } from '../../../storage/chain-store.ts'

export class WarrantBook {
  readonly #store: ChainStore
  readonly #self: Uint8Array
  readonly #now: () => number
  readonly #agents = new Set<string>()
  /** `agent|rule` of every warrant held. */
  readonly #issued = new Set<string>()

  /** `now`: microseconds since the epoch, for warrant timestamps. */
  constructor(store: ChainStore, self: Uint8Array, now: () => number) {
    this.#store = store
    this.#self = self
    this.#now = now
    for (const warrant of store.listWarrants()) {
      this.#agents.add(encodeHashB64(warrant.author))
      this.#issued.add(warrantKey(warrant.author, warrant.rule))
    }
  }

  /** `agent`: its key, or the key as HoloHashB64 (as the members are named: nothing to convert). */
  has(agent: Uint8Array | string): boolean {
    return this.#agents.has(typeof agent === 'string' ? agent : encodeHashB64(agent))
  }

  /** Warrants `offender` under `rule`; false when it already is (nothing is written again). */
  issue(
    offender: Uint8Array,
    dnaHash: Uint8Array,
    actionHash: Uint8Array,
    rule: string,
    reason: string,
  ): boolean {
    const key = warrantKey(offender, rule)
    if (this.#issued.has(key)) return false
    this.#issued.add(key)
    const warrant: Warrant = {
      author: offender,
      dnaHash,
      rule,
      reason,
      actionHash,
      reportedBy: this.#self,
      timestamp: this.#now(),
    }
    this.#store.addWarrant(warrant)
    this.#agents.add(encodeHashB64(offender))
    return true
  }
}

function warrantKey(agent: Uint8Array, rule: string): string {
  return `${encodeHashB64(agent)}|${rule}`
}
