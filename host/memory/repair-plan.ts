/**
 * Replica repair: how two holders of a shard find what one of them misses without
 * reading every document. Each holder keeps, per level, a digest of its documents bucketed by when
 * they were written (the XOR of a hash of each (id, updated_at), and a count): level 0 is the whole
 * shard in one bucket, then buckets of ~2.2 years, ~3.1 days, ~17 min and ~4.1 s, each 256 of the
 * next (only buckets holding writes exist). Comparing starts at the root; only
 * the buckets that differ are opened one level down, and at the finest level (4.1 s buckets) the
 * writes of those time ranges are pulled. Replicas that agree answer in one exchange of one digest.
 */
import { createHash } from 'node:crypto'

/** Bucket width per level, as a power of two of milliseconds: all, ~2.2 years, ~3.1 days, ~17 min, ~4.1 s. */
export const REPAIR_SHIFTS = [53, 36, 28, 20, 12] as const

/** The bucket of a write made at `updatedAt` at `level`. */
export function bucketOf(updatedAt: number, level: number): number {
  return Math.floor(updatedAt / 2 ** shiftOf(level))
}

/** What one (id, updated_at) XORs into its buckets' digests: the first 8 bytes of its sha256. */
export function writeDigest(id: string, updatedAt: number): bigint {
  return createHash('sha256')
    .update(id)
    .update('\u0000')
    .update(String(updatedAt))
    .digest()
    .readBigUInt64BE(0)
}

/** A bucket's summary on one holder. */
export interface BucketDigest {
  bucket: number
  count: number
  /** XOR of the writes' digests, 16 hex digits. */
  digest: string
}

/** A range of buckets (inclusive) at a level: what to ask the other holder's digests of. */
export interface DigestRange {
  level: number
  from: number
  to: number
}

/** Writes with `from <= updated_at < before`: what to pull. */
export interface PullRange {
  from: number
  before: number
}

export const ROOT: DigestRange = { level: 0, from: 0, to: 0 }

/**
 * Given this holder's and the other's digests of the same range, what to do next: ask the other's
 * digests one level down under each bucket that differs, or, at the finest level, pull those buckets'
 * writes (adjacent ones merged). A bucket only this holder has is not pulled: the other lacks it and
 * pulls it in its own repair. Nor is one that starts after `settledBefore`: writes still on their way
 * to every holder make replicas differ for a moment, and a later round repairs what stays different.
 */
export function planRepair(
  level: number,
  mine: readonly BucketDigest[],
  theirs: readonly BucketDigest[],
  settledBefore = Number.MAX_SAFE_INTEGER,
): { ask: DigestRange[]; pull: PullRange[] } {
  const held = new Map(mine.map((b) => [b.bucket, b]))
  const differing = theirs
    .filter((b) => {
      const own = held.get(b.bucket)
      return own === undefined || own.digest !== b.digest || own.count !== b.count
    })
    .map((b) => b.bucket)
    .sort((a, b) => a - b)
  const width = 2 ** shiftOf(level)
  if (level === REPAIR_SHIFTS.length - 1) {
    const pull: PullRange[] = []
    for (const bucket of differing.filter((b) => b * width < settledBefore)) {
      const last = pull.at(-1)
      if (last !== undefined && last.before === bucket * width) last.before += width
      else pull.push({ from: bucket * width, before: (bucket + 1) * width })
    }
    return { ask: [], pull }
  }
  const fanOut = 2 ** (shiftOf(level) - shiftOf(level + 1))
  return {
    ask: differing.map((bucket) => ({
      level: level + 1,
      from: bucket * fanOut,
      to: (bucket + 1) * fanOut - 1,
    })),
    pull: [],
  }
}

/** How this copy reads its own digests, and reaches the other holder's digests and writes. */
export interface RepairSides {
  mine(range: DigestRange): readonly BucketDigest[]
  theirs(range: DigestRange): Promise<readonly BucketDigest[]>
  /** Pulls the other's writes of a time range into this copy; answers how many changed it. */
  pull(range: PullRange): Promise<number>
}

/**
 * Walks the digests down from the root as `planRepair` says, leaving out writes newer than
 * `settledBefore`; answers how many pulled writes changed this copy.
 */
export async function repairFrom(
  sides: RepairSides,
  settledBefore = Number.MAX_SAFE_INTEGER,
  signal?: AbortSignal,
): Promise<number> {
  let asks: DigestRange[] = [ROOT]
  let pulled = 0
  while (asks.length > 0) {
    const next: DigestRange[] = []
    for (const range of asks) {
      signal?.throwIfAborted()
      const plan = planRepair(range.level, sides.mine(range), await sides.theirs(range), settledBefore)
      next.push(...plan.ask)
      for (const pull of plan.pull) pulled += await sides.pull(pull)
    }
    asks = next
  }
  return pulled
}

function shiftOf(level: number): number {
  const shift = REPAIR_SHIFTS[level]
  if (shift === undefined) throw new RangeError(`no repair level ${level}`)
  return shift
}
