/**
 * What a higher band's request does when it finds every slot taken (issue 58, point 2): park a
 * running request of a band below its own, or wait for the first slot to free. Pure.
 *
 * A park pays only where the request parked would run longer than the park takes: on a fast engine
 * a short answer ends sooner than its slot can be saved and given back, and restoring it costs the
 * engine as much again. So when some request below the asker's band is expected to end within what a
 * park costs, the asker waits (it is first in line: the higher band is served first). Else the victim
 * is the lowest band's, and within it the one that took its slot last (the least work saved and
 * restored). A request whose time left is not known yet (no tokens made) is parked as any other.
 */
import type { ParkOdds } from '../../interface/slot-yield.ts'
import { above, type Band, bandRank } from '../priority.ts'

/** A request holding a slot, as the runner's turns see it. */
export interface Holder {
  readonly band: Band
  /** How the engine parks it now (slot-yield.ts); null while it cannot be. */
  park: (() => Promise<void>) | null
  /** Its time left and what a park costs, as the engine measures them now; absent: not known. */
  odds?: (() => ParkOdds) | undefined
  /** Asked to park, not yet back at a slot. */
  parking: boolean
}

export type Preemption<H> = { park: H } | 'wait' | undefined

/** Whether `odds` say the request ends before a park of it would free its slot. */
function endsFirst(odds: ParkOdds): boolean {
  return odds.leftMs !== null && odds.leftMs <= odds.parkMs
}

/**
 * For a request of `band` finding every slot taken: the holder to park, 'wait' for the first slot to
 * free, or undefined (nothing below its band may be parked). `holders` in the order they took their slots.
 */
export function preemptionFor<H extends Holder>(holders: Iterable<H>, band: Band): Preemption<H> {
  let victim: H | undefined
  for (const h of holders) {
    if (h.park === null || h.parking || !above(band, h.band)) continue
    if (h.odds && endsFirst(h.odds())) return 'wait'
    if (victim === undefined || bandRank(h.band) <= bandRank(victim.band)) victim = h
  }
  return victim && { park: victim }
}
