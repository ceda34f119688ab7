/**
 * Give to get (issue 47, point 4; opt-in, `ripple up --give-to-get`): a member's weight in a runner's
 * fair line grows with what it served in the last day, so members who share their GPUs are served
 * first when the mesh is busy. Bounded: one turn more per GIVE_PER_TURN requests served, at most
 * MAX_WEIGHT turns to another's one. Pure, but for the clock.
 *
 * Counted only as far as both parties' signed records show it (issue 55, point 10): the requests this
 * peer asked of the member and accepted, each a ServedLeaf this peer signed holding the member's own
 * AnswerLeaf proven against the member's public batch (the usage ledger's `used` rows, acceptedFrom).
 * What a runner states in its own public AnswerBatch counts for nothing: a member cannot raise its
 * weight by claiming, only by serving this peer (or, with other peers, by serving them: their weights).
 */

/** Requests served in a day that earn one more turn. */
export const GIVE_PER_TURN = 100
/** The most turns a member takes while one that served nothing takes one. */
export const MAX_WEIGHT = 4
/** How long the counts are used before they are read again. */
const REFRESH_MS = 60_000
const DAY_MS = 24 * 3_600_000

/** A member's weight from the requests it served in the last day: 1 for none, up to MAX_WEIGHT. */
export function giveWeight(served: number): number {
  return Math.min(MAX_WEIGHT, 1 + Math.max(0, served) / GIVE_PER_TURN)
}

/**
 * SlotTurns' `weightOf`: each member's weight from `served` (per runner, the requests it served this
 * peer, signed by both, from a time in ms on: UsagePort's `acceptedFrom`), read once a minute.
 */
export function giveToGet(
  served: (sinceMs: number) => ReadonlyMap<string, number>,
  now: () => number = Date.now,
): (member: string) => number {
  let read: { at: number; counts: ReadonlyMap<string, number> } | null = null
  return (member) => {
    const t = now()
    if (read === null || t - read.at >= REFRESH_MS) read = { at: t, counts: served(t - DAY_MS) }
    return giveWeight(read.counts.get(member) ?? 0)
  }
}
