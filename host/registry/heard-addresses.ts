/**
 * What members tell of their addresses in their heartbeats, handed to the book of member addresses
 * (net/member-addresses.ts); a refused list is logged once per member and reason.
 */
import type { Logger } from '../log/logger.ts'

/** Refusals of a member's addresses already logged (each member and reason once). */
const REFUSALS_TOLD = 256

export interface AddressBook {
  own(): string[]
  /** Why it refused `told` (its last good addresses are kept); null: taken. */
  heard(agent: string, told: unknown): string | null
}

export class HeardAddresses {
  readonly #refusals = new Set<string>()
  readonly #book: AddressBook | null
  readonly #logger: Logger

  constructor(book: AddressBook | null, logger: Logger) {
    this.#book = book
    this.#logger = logger
  }

  /** `agent`'s heartbeat told `addrs` (undefined: none, as a 0.2.0 peer's). */
  heard(agent: string, addrs: unknown): void {
    if (addrs === undefined || !this.#book) return
    const why = this.#book.heard(agent, addrs)
    if (why === null || this.#refusals.has(`${agent}\n${why}`)) return
    if (this.#refusals.size >= REFUSALS_TOLD) this.#refusals.clear()
    this.#refusals.add(`${agent}\n${why}`)
    this.#logger.warn({ from: agent, why }, "refused a member's addresses (its last good ones are kept)")
  }
}
