/**
 * Churn (issue 57): when the members change, an op's holders change with them (a holder left and the
 * next closest member takes its place, or a member joined closer than one of them). The op keeps R
 * holders when one holder that had it pushes it to each new one: the closest of its holders before
 * that is still a holder now, so each new holder gets it once, not R times. When none of its holders
 * before is left, nobody here can push it (the bench counts those; anti-entropy with its author, or
 * any peer that still has it, is what finds it again). Pure: the replicator's anti-entropy and the
 * bench plan by it.
 */
import { opHolders } from './op-holders.ts'

export interface Handoff {
  /** The holders now that were not before, closest first. */
  to: string[]
  /** The holder that pushes to them (had it before, holds it still), or null when none is left. */
  by: string | null
}

/** How an op whose basis is `basis` reaches its new holders when the members go from `before` to `after`. */
export function opHandoff(
  basis: Uint8Array,
  before: Iterable<string>,
  after: Iterable<string>,
  r: number,
): Handoff {
  const had = opHolders(basis, before, r)
  const now = opHolders(basis, after, r)
  const kept = new Set(had)
  const by = now.find((agent) => kept.has(agent)) ?? null
  return { to: now.filter((agent) => !kept.has(agent)), by }
}

/** The members `self` pushes the op to after the change: none unless it is the one to push. */
export function pushesOf(
  self: string,
  basis: Uint8Array,
  before: Iterable<string>,
  after: Iterable<string>,
  r: number,
): string[] {
  const handoff = opHandoff(basis, before, after, r)
  return handoff.by === self ? handoff.to : []
}
