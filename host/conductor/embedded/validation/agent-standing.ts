/**
 * What the rules of a genesis need to know about other agents beyond their chains (issue 55): whether
 * the member that witnessed a redemption is barred here (revoked or warranted: a witness's statement
 * carries any time it chose, so a barred one's count no more), and which uses of 0.1.0 grants the
 * admins sealed (from then on a legacy grant admits only those). Replication knows both and attaches
 * itself once it runs; before that, nothing is known against anyone.
 */

/** A use of an invite as a seal lists it: `invite_id` and agent, one string. */
export const sealedUseKey = (inviteId: string, agent: string): string => `${inviteId}\n${agent}`

export interface AgentStanding {
  /** Revoked or warranted as this peer holds it. */
  barred(agent: string): boolean
  /** The legacy uses the admins' seals list (sealedUseKey); null while no seal is held. */
  legacySealed(): ReadonlySet<string> | null
}

export const NO_STANDING: AgentStanding = { barred: () => false, legacySealed: () => null }

/** The standing the cells' rules ask, answered by whatever replication attaches. */
export class StandingRelay implements AgentStanding {
  #source: AgentStanding = NO_STANDING

  attach(source: AgentStanding): void {
    this.#source = source
  }

  barred(agent: string): boolean {
    return this.#source.barred(agent)
  }

  legacySealed(): ReadonlySet<string> | null {
    return this.#source.legacySealed()
  }
}
