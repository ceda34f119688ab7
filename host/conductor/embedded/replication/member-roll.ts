/**
 * The members this peer counts (membership.ts `knownMembers`), found once per change of what decides
 * it and shared by all that ask: the placer, the read path, the registry (each heartbeat heard, each
 * beat's count of the others, the mesh's versions). Asked apart, each checked every member's
 * membership (store reads each) at each call, several times a second, so an idle peer's cost grew
 * with the mesh. What decides it: agent_registry's rows (geneses, revocations and seals are its
 * entries; `changed` after each is stored or committed here) and what replication holds of
 * revocations, warrants and seals (`stamp`: each only grows, so any change moves it, even one noted
 * just after its row was written).
 */

export interface MemberRollInit {
  /** Reads the members afresh (membership.ts `knownMembers`). */
  read: () => string[]
  /** A count that grows whenever revocations, warrants or seals held here do. */
  stamp: () => number
}

export class MemberRoll {
  readonly #init: MemberRollInit
  #changes = 0
  #roll: { key: number; members: readonly string[]; set: ReadonlySet<string> } | null = null

  constructor(init: MemberRollInit) {
    this.#init = init
  }

  /** An agent_registry op was stored or committed here: read again when next asked. */
  changed(): void {
    this.#changes++
  }

  /** The members, this peer among them. */
  members(): readonly string[] {
    return this.#current().members
  }

  has(agent: string): boolean {
    return this.#current().set.has(agent)
  }

  #current(): { members: readonly string[]; set: ReadonlySet<string> } {
    // Both parts only grow: the same sum is the same standing.
    const key = this.#changes + this.#init.stamp()
    if (this.#roll?.key !== key) {
      const members = this.#init.read()
      this.#roll = { key, members, set: new Set(members) }
    }
    return this.#roll
  }
}
