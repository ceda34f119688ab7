/**
 * Which running request gives its slot up to a higher band's (issue 58, point 2): one that can be
 * parked and is not being parked already, of a band below the asker's; the lowest band first, and
 * within it the one that took its slot last (the least work saved and restored). Pure.
 */
import { above, type Band, bandRank } from '../priority.ts'

/** A request holding a slot, as the runner's turns see it. */
export interface Holder {
  readonly band: Band
  /** How the engine parks it now (slot-yield.ts); null while it cannot be. */
  park: (() => Promise<void>) | null
  /** Asked to park, not yet back at a slot. */
  parking: boolean
}

/** `holders` in the order they took their slots. */
export function victimFor<H extends Holder>(holders: Iterable<H>, band: Band): H | undefined {
  let victim: H | undefined
  for (const h of holders) {
    if (h.park === null || h.parking || !above(band, h.band)) continue
    if (victim === undefined || bandRank(h.band) <= bandRank(victim.band)) victim = h
  }
  return victim
}
