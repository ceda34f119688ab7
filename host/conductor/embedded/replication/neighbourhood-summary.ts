/**
 * What two peers of a neighbourhood compare instead of listing ops (issue 57, kitsune2's sector
 * summaries): the ops both should hold (op-holders.ts over the members known, R; every member holds an
 * everywhere op; its author its own, so a record whose pushes failed is found again with its author), bucketed into SECTORS sectors by the leading bits of each op's own hash, with a digest
 * per sector and a root over the digests. Sectors go by the op's hash, not its basis: the bases two
 * peers both hold lie together near both of them, so sectors of the basis space would put them all in
 * one. An idle pair compares one root per DNA; a differing root, its sector digests; only the hashes of
 * differing sectors are ever listed. Pure: the exchange (neighbourhood-sync.ts) and its tests use it.
 */
import { createHash } from 'node:crypto'
import { core32 } from '../../../identity/hash.ts'
import { closestMembers, type Placed, placeMembers, placeOfBasis } from './op-holders.ts'

/** Sectors a summary splits the ops into: a power of two, at most 256 (one byte of the hash). */
export const SECTORS = 64

/** An op this peer holds and where it lives. */
export interface PlacedOp {
  /** Its action hash. */
  hash: Uint8Array
  /** Its bases (op-basis.ts: where it is held); null for an op every member holds. */
  bases: readonly Uint8Array[] | null
  /** Its author (HoloHashB64), who keeps it in its own chain. */
  author: string
}

/** An op with its holders planned over one member list: null when every member holds it. */
export interface PlannedOp {
  hash: Uint8Array
  holders: ReadonlySet<string> | null
}

export interface Summary {
  /** One digest over the sector digests: equal roots, nothing to compare. */
  root: Uint8Array
  /** A digest per sector, SECTORS of them. */
  sectors: Uint8Array[]
  /** The hashes in each sector, in byte order. */
  hashes: Uint8Array[][]
}

/** The sector of an op by its hash's leading bits. */
export function sectorOf(hash: Uint8Array): number {
  return core32(hash)[0]! >> (8 - Math.log2(SECTORS))
}

/** Plans each op's holders over `members` once: the pairs a peer compares with all filter this. */
export function planOps(ops: Iterable<PlacedOp>, members: Iterable<string>, r: number): PlannedOp[] {
  const placed = placeMembers(members)
  return [...ops].map((op) => planOne(op, placed, r))
}

function planOne({ hash, bases, author }: PlacedOp, placed: readonly Placed[], r: number): PlannedOp {
  return {
    hash,
    holders:
      bases === null
        ? null
        : new Set([author, ...bases.flatMap((basis) => closestMembers(placeOfBasis(basis), placed, r))]),
  }
}

/**
 * planOps over a store that grows: an op's holders change only with the members, so while they stay
 * the ops planned before are not planned again (each costs a pass over every member per basis) and a
 * write plans only what it added. Ops are known by identity (held-op-list.ts keeps each op's object
 * across writes). Without it every write re-planned the whole store: per exchange, ops held x members.
 */
export class HolderPlans {
  #key: string | null = null
  #placed: Placed[] = []
  #byOp = new WeakMap<PlacedOp, PlannedOp>()

  /** The plan of `ops` over `members` (in the same order every call while they stay) and R `r`. */
  plan(ops: Iterable<PlacedOp>, members: readonly string[], r: number): PlannedOp[] {
    const key = `${r} ${members.join(',')}`
    if (key !== this.#key) {
      this.#key = key
      this.#placed = placeMembers(members)
      this.#byOp = new WeakMap()
    }
    return [...ops].map((op) => {
      let planned = this.#byOp.get(op)
      if (planned === undefined) {
        planned = planOne(op, this.#placed, r)
        this.#byOp.set(op, planned)
      }
      return planned
    })
  }
}

/** The hashes of the planned ops that both `self` and `peer` should hold. */
export function heldByBoth(planned: readonly PlannedOp[], self: string, peer: string): Uint8Array[] {
  return planned
    .filter(({ holders }) => holders === null || (holders.has(self) && holders.has(peer)))
    .map(({ hash }) => hash)
}

const compareBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b)

/** The summary of `hashes` (in any order, each once). */
export function summarize(hashes: Iterable<Uint8Array>): Summary {
  const buckets: Uint8Array[][] = Array.from({ length: SECTORS }, () => [])
  for (const hash of hashes) buckets[sectorOf(hash)]!.push(hash)
  const sectors = buckets.map((bucket) => {
    bucket.sort(compareBytes)
    const digest = createHash('sha256')
    for (const hash of bucket) digest.update(hash)
    return new Uint8Array(digest.digest())
  })
  const root = createHash('sha256')
  for (const digest of sectors) root.update(digest)
  return { root: new Uint8Array(root.digest()), sectors, hashes: buckets }
}

/** The sectors whose digests differ; every sector when `theirs` is not a summary of as many sectors. */
export function differingSectors(ours: readonly Uint8Array[], theirs: readonly Uint8Array[]): number[] {
  const all = ours.map((_, i) => i)
  if (theirs.length !== ours.length) return all
  return all.filter((i) => Buffer.compare(ours[i]!, theirs[i]!) !== 0)
}
