/**
 * The line at a runner's slots with priority bands (issue 58, point 2): a fair line (fair-line.ts:
 * the owner's own first, then members by weight) per band, the higher band served first. Pure.
 */
import { BANDS, type Band, bandRank } from '../priority.ts'
import { FairLine } from './fair-line.ts'

export class BandLine<T> {
  /** Highest band first. */
  readonly #lines: { band: Band; line: FairLine<T> }[]

  constructor(weightOf?: (member: string) => number) {
    this.#lines = [...BANDS].reverse().map((band) => ({ band, line: new FairLine<T>(weightOf) }))
  }

  get size(): number {
    return this.#lines.reduce((n, { line }) => n + line.size, 0)
  }

  /** The lines of `band` and those above it. */
  #from(band: Band): FairLine<T>[] {
    return this.#lines.filter((l) => bandRank(l.band) >= bandRank(band)).map((l) => l.line)
  }

  /** Whether anyone of `band` or above waits that could be served (as FairLine.waiting). */
  waiting(eligible: (member: string) => boolean, band: Band = 'batch'): boolean {
    return this.#from(band).some((line) => line.waiting(eligible))
  }

  /** How many of the owner's requests of `band` or above wait. */
  ownerWaiting(band: Band = 'batch'): number {
    return this.#from(band).reduce((n, line) => n + line.ownerWaiting, 0)
  }

  /** `first`: ahead of its member's others (a parked request going back to its slot). */
  push(item: T, member: string, owner: boolean, band: Band, first = false): void {
    this.#lines.find((l) => l.band === band)!.line.push(item, member, owner, first)
  }

  remove(item: T): boolean {
    return this.#lines.some(({ line }) => line.remove(item))
  }

  /** The next to serve: the highest band's, by its fair line. */
  next(eligible: (member: string) => boolean): T | undefined {
    for (const { line } of this.#lines) {
      const item = line.next(eligible)
      if (item !== undefined) return item
    }
    return undefined
  }
}
