/**
 * Which members still count for placing ops (issue 57): a member gone (no connection to it and nothing
 * of its seen for `goneAfterMs`) no longer holds anything, so its ops' next closest members take them
 * (op-handoff.ts); revoked and warranted agents are no members already (membership.ts). A member this
 * peer has only just learnt of is given the same while from then, so a peer that starts does not count
 * every member it has not met yet as gone.
 */
export interface PresenceInit {
  /** This peer's agent: always present. */
  self: string
  goneAfterMs: number
  now?: () => number
}

export class MemberPresence {
  readonly #init: PresenceInit
  readonly #now: () => number
  /** When each member was last connected or heard from (or first known), ms. */
  readonly #seen = new Map<string, number>()

  constructor(init: PresenceInit) {
    this.#init = init
    this.#now = init.now ?? Date.now
  }

  /** Something of `agent`'s arrived (an op it authored, a request): it is still about. */
  saw(agent: string): void {
    this.#seen.set(agent, this.#now())
  }

  /** Of the members known, those present: this peer, those connected, those seen within the while. */
  present(known: readonly string[], connected: (agent: string) => boolean): string[] {
    const now = this.#now()
    return known.filter((agent) => {
      if (agent === this.#init.self || connected(agent)) {
        this.#seen.set(agent, now)
        return true
      }
      const seen = this.#seen.get(agent)
      if (seen === undefined) this.#seen.set(agent, now)
      return seen === undefined || now - seen < this.#init.goneAfterMs
    })
  }
}
