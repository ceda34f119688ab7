/**
 * Churn (issue 57): when the members change, an op's holders change with them (a holder left and the
 * next closest member takes its place, or a member joined closer than one of them). The op keeps R
 * holders when one holder that had it pushes it to each new one: the closest of its holders before
 * that is still a holder now, so each new holder gets it once, not R times. When none of its holders
 * before is a holder now but one is still a member (a partition healed: each side held the other's
 * ops among itself), the closest such pushes it, since it still has it. When none is left at all,
 * nobody here can push it (the bench counts those; anti-entropy with its author is what finds it
 * again). Pure: the replicator's hand-off and the bench plan by it.
 */
import { opHolders } from './op-holders.ts'

export interface Handoff {
  /** The holders now that were not before, closest first. */
  to: string[]
  /** Who pushes to them: had it before and holds it still, else had it and is a member still; or null. */
  by: string | null
}

/** How an op whose basis is `basis` reaches its new holders when the members go from `before` to `after`. */
export function opHandoff(
  basis: Uint8Array,
  before: Iterable<string>,
  after: Iterable<string>,
  r: number,
): Handoff {
  const members = new Set(after)
  const had = opHolders(basis, before, r)
  const now = opHolders(basis, members, r)
  const kept = new Set(had)
  const by = now.find((agent) => kept.has(agent)) ?? had.find((agent) => members.has(agent)) ?? null
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
