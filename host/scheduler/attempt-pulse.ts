/**
 * A lease runs on while its attempt is heard. An assignee streaming its answer is alive however long
 * the answer takes, so neither side gives the attempt up at the lease's written end while its progress
 * keeps coming: a long answer on a slow peer is not cut at the lease and run again elsewhere. Silence
 * for HEARD_KEEPS_LEASE_MS past the written end ends it, as before; the task's deadline bounds it all.
 * The runner counts its own worker's events; the requester the `progress` signals of the attempt's
 * assignee, as task-watch.ts reads them (a `started` does not count: both sides count the same), and
 * its own runner's events when it runs the attempt itself.
 */
/** How long an attempt's last progress keeps its lease alive past the written end. */
export const HEARD_KEEPS_LEASE_MS = 15_000

/** Attempts remembered (one per running attempt this host requested; the oldest go first). */
const REMEMBERED = 1024

/** When a lease ends, in the unit given: its written end, or later while its attempt is heard. */
export function leaseEnd(writtenEnd: number, heardAt: number | undefined, unitsPerMs = 1): number {
  return heardAt === undefined
    ? writtenEnd
    : Math.max(writtenEnd, heardAt + HEARD_KEEPS_LEASE_MS * unitsPerMs)
}

/** When each attempt was last heard from, and from whom (only its assignee's word counts). */
export class AttemptPulse {
  readonly #heard = new Map<string, { from: string; atMs: number }>()

  /** `from` says it is running `assignment` (bound: handed around as a callback). */
  readonly beat = (assignment: string, from: string, atMs = Date.now()): void => {
    this.#heard.delete(assignment)
    this.#heard.set(assignment, { from, atMs })
    if (this.#heard.size > REMEMBERED) this.#heard.delete(this.#heard.keys().next().value!)
  }

  /** When `assignee` last said its attempt `assignment` is alive (ms since the epoch), if it has. */
  heardAt(assignment: string, assignee: string): number | undefined {
    const heard = this.#heard.get(assignment)
    return heard?.from === assignee ? heard.atMs : undefined
  }
}
