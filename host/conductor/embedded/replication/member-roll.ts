/**
 * The members this peer counts (membership.ts `knownMembers`), found once per change of what decides
 * it and shared by all that ask: the placer, the read path, the registry (each heartbeat heard, each
 * beat's count of the others, the mesh's versions). Asked apart, each checked every member's
 * membership (store reads each) at each call, several times a second, so an idle peer's cost grew
 * with the mesh. What decides it is the store's rows (geneses, revocations and seals are agent_registry
 * entries, a warrant is a row too) and what replication holds of revocations, warrants and seals:
 * `stamp` counts both (the store's writes, even within a transaction under way, as an op placed
 * after a genesis in the same batch must see it; the held ones, noted just after their rows).
 */

export interface MemberRollInit {
  /** Reads the members afresh (membership.ts `knownMembers`). */
  read: () => string[]
  /** A count that grows whenever the store is written or revocations, warrants or seals held here grow. */
  stamp: () => number
}

export class MemberRoll {
  readonly #init: MemberRollInit
  #roll: { key: number; members: readonly string[]; set: ReadonlySet<string> } | null = null

  constructor(init: MemberRollInit) {
    this.#init = init
  }

  /** The members, this peer among them. */
  members(): readonly string[] {
    return this.#current().members
  }

  has(agent: string): boolean {
    return this.#current().set.has(agent)
  }

  #current(): { members: readonly string[]; set: ReadonlySet<string> } {
    // Every part only grows: the same count is the same standing.
    const key = this.#init.stamp()
    if (this.#roll?.key !== key) {
      const members = this.#init.read()
      this.#roll = { key, members, set: new Set(members) }
    }
    return this.#roll
  }
}
