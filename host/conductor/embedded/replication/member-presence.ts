/**
 * Which members still count for placing ops (issue 57): a member gone no longer holds anything, so its
 * ops' next closest members take them (op-handoff.ts). At scale a peer holds a few dozen connections
 * (issue 56) while the mesh has a thousand members, so being unconnected says nothing: a member is gone
 * only once this peer has a reason, a use of it that failed (a push, a held-op exchange) and then a dial
 * to it that failed too. Anything of its that arrives (a batch it sent, an acknowledgement, an answer)
 * or a connection to it clears that. Revoked and warranted agents are no members already (membership.ts).
 * No peer tracks another's heartbeat: the cost is one entry per member something failed against, and
 * at most DIALS_PER_CHECK dials a round, whatever the mesh's size.
 */

/** Where this peer stands on a member: nothing against it, a use failed, then a dial failed as well. */
export type Standing = 'present' | 'suspect' | 'gone'
export type PresenceEvent = 'seen' | 'failed' | 'dial-ok' | 'dial-failed'

/** Suspects dialled each check (a round): the bound on what presence costs a peer. */
export const DIALS_PER_CHECK = 4

/** The rule. A dial is only tried on a suspect, so a failed one on a member with nothing against it counts nothing. */
export function nextStanding(standing: Standing, event: PresenceEvent): Standing {
  switch (event) {
    case 'seen':
    case 'dial-ok':
      return 'present'
    case 'failed':
      return standing === 'gone' ? 'gone' : 'suspect'
    case 'dial-failed':
      return standing === 'present' ? 'present' : 'gone'
  }
}

export interface PresenceInit {
  /** This peer's agent: always present. */
  self: string
  /** Dials a member (true when it answered); rejecting counts as false. */
  dial: (agent: string) => Promise<boolean>
  dialsPerCheck?: number
}

export class MemberPresence {
  readonly #init: PresenceInit
  /** The members something is held against; every other one is present. */
  readonly #against = new Map<string, Exclude<Standing, 'present'>>()
  #checking = false

  constructor(init: PresenceInit) {
    this.#init = init
  }

  /** Something of `agent`'s arrived (a batch it sent, an answer): it is about. */
  saw(agent: string): void {
    this.#against.delete(agent)
  }

  /** A push, or an exchange, to `agent` failed: it is dialled at the next check. */
  failed(agent: string): void {
    this.#event(agent, 'failed')
  }

  standing(agent: string): Standing {
    return this.#against.get(agent) ?? 'present'
  }

  /** Of the members known, those present: this peer, those connected, and all not found gone. */
  present(known: readonly string[], connected: (agent: string) => boolean): string[] {
    return known.filter((agent) => {
      if (agent === this.#init.self || connected(agent)) {
        this.#against.delete(agent)
        return true
      }
      return this.#against.get(agent) !== 'gone'
    })
  }

  /** Dials a few suspects not connected; each answers (present) or is gone. Returns how many were dialled. */
  async check(connected: (agent: string) => boolean): Promise<number> {
    if (this.#checking) return 0
    this.#checking = true
    try {
      const suspects = [...this.#against].filter(([, s]) => s === 'suspect').map(([agent]) => agent)
      const dialled = suspects.slice(0, this.#init.dialsPerCheck ?? DIALS_PER_CHECK)
      await Promise.all(
        dialled.map(async (agent) => {
          const ok = connected(agent) || (await this.#init.dial(agent).catch(() => false))
          this.#event(agent, ok ? 'dial-ok' : 'dial-failed')
        }),
      )
      return dialled.length
    } finally {
      this.#checking = false
    }
  }

  #event(agent: string, event: PresenceEvent): void {
    const next = nextStanding(this.standing(agent), event)
    if (next === 'present') this.#against.delete(agent)
    else this.#against.set(agent, next)
  }
}
