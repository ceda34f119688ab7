/**
 * Who goes next when requests wait for a runner's slots (issue 47, point 3): the owner's own requests
 * first, in arrival order (a peer's agents never wait behind others on its own machine); then members
 * take turns by deficit round robin, each turn worth its weight in requests, so a member with 32
 * waiting gets its share and no more while another with one is waiting. Pure: no time, no slots.
 */

interface Member<T> {
  items: T[]
  deficit: number
}

export class FairLine<T> {
  readonly #owner: T[] = []
  readonly #members = new Map<string, Member<T>>()
  /** Members with requests waiting, in the order they take turns. */
  readonly #ring: string[] = []
  #turn = 0
  readonly #weightOf: (member: string) => number

  /** `weightOf`: a member's share of turns (default 1 each; above 0). */
  constructor(weightOf: (member: string) => number = () => 1) {
    this.#weightOf = weightOf
  }

  get size(): number {
    return this.#owner.length + this.#ring.reduce((n, m) => n + this.#members.get(m)!.items.length, 0)
  }

  /** Whether anyone waits that could be served (the owner, or a member `eligible` says yes to). */
  waiting(eligible: (member: string) => boolean = () => true): boolean {
    return this.#owner.length > 0 || this.#ring.some(eligible)
  }

  /** How many of the owner's requests wait. */
  get ownerWaiting(): number {
    return this.#owner.length
  }

  /** `first`: ahead of the member's (or the owner's) others. */
  push(item: T, member: string, owner: boolean, first = false): void {
    if (owner) {
      if (first) this.#owner.unshift(item)
      else this.#owner.push(item)
      return
    }
    let m = this.#members.get(member)
    if (m === undefined) {
      m = { items: [], deficit: 0 }
      this.#members.set(member, m)
      this.#ring.push(member)
    }
    if (first) m.items.unshift(item)
    else m.items.push(item)
  }

  /** Takes an item out of the line (it stopped waiting); false when it was not in it. */
  remove(item: T): boolean {
    const i = this.#owner.indexOf(item)
    if (i >= 0) {
      this.#owner.splice(i, 1)
      return true
    }
    for (const [member, m] of this.#members) {
      const j = m.items.indexOf(item)
      if (j < 0) continue
      m.items.splice(j, 1)
      if (m.items.length === 0) this.#leave(member)
      return true
    }
    return false
  }

  /**
   * The next to serve, taken out of the line; undefined when none waits. Members `eligible` says no
   * to are passed over, keeping their turn (the owner's requests always are).
   */
  next(eligible: (member: string) => boolean = () => true): T | undefined {
    if (this.#owner.length > 0) return this.#owner.shift()
    if (!this.waiting(eligible)) return undefined
    for (;;) {
      this.#turn %= this.#ring.length
      const member = this.#ring[this.#turn]!
      const m = this.#members.get(member)!
      if (!eligible(member)) {
        this.#turn += 1
        continue
      }
      if (m.deficit < 1) {
        // Its turn begins: its weight in requests (a weight below 1 saves up over rounds).
        m.deficit += Math.max(this.#weightOf(member), 1e-3)
        if (m.deficit < 1) {
          this.#turn += 1
          continue
        }
      }
      const item = m.items.shift()!
      m.deficit -= 1
      if (m.items.length === 0) this.#leave(member)
      else if (m.deficit < 1) this.#turn += 1
      return item
    }
  }

  /** A member with nothing waiting leaves the ring, and its unused turn with it (as DRR resets it). */
  #leave(member: string): void {
    const at = this.#ring.indexOf(member)
    this.#ring.splice(at, 1)
    this.#members.delete(member)
    if (at < this.#turn) this.#turn -= 1
  }
}
