/**
 * The churn hand-off (issue 57): when the members present change (member-presence.ts, membership.ts),
 * each op keeps R holders because the one holder that op-handoff.ts names pushes it to each new holder
 * of each of its bases. This peer plans, from the ops it holds, what it is the one to push, queues it,
 * and pushes a bounded number each round, so a change in a large store costs a few rounds, not one
 * burst; a push that fails is tried again next round while its target is still a member. An op every
 * member holds (bases null) is not handed off: gossip and summaries carry it.
 */
import { encodeHashB64 } from '../../../identity/hash.ts'
import type { PlacedOp } from './neighbourhood-summary.ts'
import { pushesOf } from './op-handoff.ts'

/** Ops pushed each round, all targets together. */
export const HANDOFFS_PER_ROUND = 256

/** One op to push to one member. */
export interface Handoff {
  to: string
  dnaHash: Uint8Array
  hash: Uint8Array
}

/** What `self` pushes of `ops` (of `dnaHash`) when the members go from `before` to `after`. */
export function planHandoffs(
  dnaHash: Uint8Array,
  ops: Iterable<PlacedOp>,
  change: { before: readonly string[]; after: readonly string[]; self: string; holders: number },
): Handoff[] {
  const { before, after, self, holders } = change
  const handoffs: Handoff[] = []
  for (const { hash, bases } of ops) {
    if (bases === null) continue
    const to = new Set(bases.flatMap((basis) => pushesOf(self, basis, before, after, holders)))
    for (const agent of to) handoffs.push({ to: agent, dnaHash, hash })
  }
  return handoffs
}

export interface HandoffRunnerInit {
  self: string
  holders: number
  dnaHashes: readonly Uint8Array[]
  /** The ops of a DNA held here, with their bases (placement's). */
  ops: (dnaHash: Uint8Array) => Iterable<PlacedOp>
  /** Pushes ops (their hashes, of one DNA) to a member; rejects when it did not take them. */
  push: (to: string, dnaHash: Uint8Array, hashes: Uint8Array[]) => Promise<void>
  perRound?: number
}

export class HandoffRunner {
  readonly #init: HandoffRunnerInit
  /** The members present at the last round; null before the first (nothing known to have changed). */
  #members: readonly string[] | null = null
  #queue: Handoff[] = []

  constructor(init: HandoffRunnerInit) {
    this.#init = init
  }

  /** Pushes still queued, oldest first. */
  get queued(): readonly Handoff[] {
    return this.#queue
  }

  /** One round with the members present now: plans what their change hands this peer, pushes a bounded part. */
  async round(members: readonly string[]): Promise<number> {
    const { self, holders } = this.#init
    const before = this.#members
    this.#members = [...members]
    if (before !== null && !sameMembers(before, members)) {
      const change = { before, after: members, self, holders }
      const planned = this.#init.dnaHashes.flatMap((dnaHash) =>
        planHandoffs(dnaHash, this.#init.ops(dnaHash), change),
      )
      // A member that flaps (gone, back, gone) plans the same pushes again while the first wait.
      this.#queue = distinct([...this.#queue, ...planned])
    }
    const present = new Set(members)
    this.#queue = this.#queue.filter((handoff) => present.has(handoff.to))
    const batch = this.#queue.splice(0, this.#init.perRound ?? HANDOFFS_PER_ROUND)
    const failed: Handoff[] = []
    for (const group of groupByTarget(batch)) {
      await this.#init
        .push(
          group[0]!.to,
          group[0]!.dnaHash,
          group.map((h) => h.hash),
        )
        .catch(() => {
          failed.push(...group)
        })
    }
    this.#queue.push(...failed)
    return batch.length - failed.length
  }
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a)
  return a.length === b.length && b.every((agent) => set.has(agent))
}

/** `handoffs` with each push (target, DNA, op) once, the first kept. */
function distinct(handoffs: readonly Handoff[]): Handoff[] {
  const seen = new Set<string>()
  return handoffs.filter((h) => {
    const key = `${h.to} ${encodeHashB64(h.dnaHash)} ${encodeHashB64(h.hash)}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** The handoffs by target and DNA, each group one push. */
function groupByTarget(handoffs: readonly Handoff[]): Handoff[][] {
  const groups = new Map<string, Handoff[]>()
  for (const handoff of handoffs) {
    const key = `${handoff.to} ${encodeHashB64(handoff.dnaHash)}`
    const group = groups.get(key) ?? []
    group.push(handoff)
    groups.set(key, group)
  }
  return [...groups.values()]
}
