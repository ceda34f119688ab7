/**
 * Which of a peer's held ops a change of members moves (sim-record.ts): each op's holder groups (the R
 * members closest to each of its bases, op-holders.ts) kept from the last change, so a change looks again
 * only at the ops it can move: those with a holder that left, and those a newcomer is closer to than one
 * of their holders (a closest-R over the group and the newcomers, not over every member). Without it,
 * every peer planned every op's holders twice over at every join and leave: seconds of the one event
 * loop per change at 300 peers.
 */
import {
  closestMembers,
  placeMembers,
  placeOfBasis,
} from '../../host/conductor/embedded/replication/op-holders.ts'

/** An op's bases placed, and the R members closest to each. */
export interface Placement {
  places: Uint8Array[]
  groups: string[][]
}

interface Entry<T> extends Placement {
  item: T
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((agent) => b.includes(agent))

export class HolderCache<T> {
  readonly #entries: Entry<T>[] = []
  readonly #r: number

  constructor(r: number) {
    this.#r = r
  }

  /** The holder groups of `bases` over `members`. */
  plan(bases: readonly Uint8Array[], members: readonly string[]): Placement {
    const places = bases.map(placeOfBasis)
    const placed = placeMembers(members)
    return { places, groups: places.map((place) => closestMembers(place, placed, this.#r)) }
  }

  /** Keeps `item`, planned over the members now. */
  keep(item: T, placement: Placement): void {
    this.#entries.push({ item, ...placement })
  }

  /** The items whose holders differ between `before` and `after`; their groups become `after`'s. */
  changed(before: readonly string[], after: readonly string[]): T[] {
    const was = new Set(before)
    const now = new Set(after)
    const gone = new Set(before.filter((agent) => !now.has(agent)))
    const come = placeMembers(after.filter((agent) => !was.has(agent)))
    let all: ReturnType<typeof placeMembers> | undefined
    const moved: T[] = []
    for (const entry of this.#entries) {
      let touched = false
      entry.groups = entry.groups.map((group, i) => {
        const place = entry.places[i]!
        let next = group
        if (group.some((agent) => gone.has(agent))) {
          all ??= placeMembers(after)
          next = closestMembers(place, all, this.#r)
        } else if (come.length > 0) next = closestMembers(place, [...placeMembers(group), ...come], this.#r)
        if (!sameSet(next, group)) touched = true
        return next
      })
      if (touched) moved.push(entry.item)
    }
    return moved
  }
}
