/**
 * After churn, how many of the record's ops keep R holders (issue 57): an op lives with the R members
 * closest to its hash and the R closest to its author (sim-record.ts); it is short when fewer than R of
 * those (over the members left: up to 2R) hold it. Ops signed after `beforeUs` are left out: their
 * pushes may still be on the way. Pure: the simulation's controller counts by it over what every
 * peer says it holds.
 */
import { opHolders } from '../../host/conductor/embedded/replication/op-holders.ts'
import { decodeHashB64 } from '../../host/identity/hash.ts'
import type { HeldOp } from './held-ops.ts'

/** Where an op lives: the R members closest to its hash, and the R closest to its author (both raw hashes). */
export function holderGroups(
  hash: Uint8Array,
  author: Uint8Array,
  members: readonly string[],
  r: number,
): [basis: string[], activity: string[]] {
  return [opHolders(hash, members, r), opHolders(author, members, r)]
}

export interface ShortCount {
  /** Ops counted: signed before the cut, held by some member. */
  ops: number
  /** Of those, the ones fewer than R of whose holders now hold. */
  short: number
}

export function shortOfHolders(
  held: ReadonlyMap<string, readonly HeldOp[]>,
  beforeUs: number,
  r: number,
): ShortCount {
  const members = [...held.keys()]
  const want = Math.min(r, members.length)
  const holding = new Map<string, { author: string; by: Set<string> }>()
  for (const [agent, ops] of held)
    for (const [hash, author, at] of ops) {
      if (at >= beforeUs) continue
      const op = holding.get(hash) ?? { author, by: new Set<string>() }
      op.by.add(agent)
      holding.set(hash, op)
    }
  let short = 0
  for (const [hash, { author, by }] of holding) {
    const groups = holderGroups(decodeHashB64(hash, 'action'), decodeHashB64(author, 'agent'), members, r)
    if ([...new Set(groups.flat())].filter((agent) => by.has(agent)).length < want) short++
  }
  return { ops: holding.size, short }
}
