/**
 * How many times a zome call that missed reads runs again (issue 57), pure: after each run, the misses
 * not yet asked are got from their holders and the call runs again with them, until a run misses
 * nothing new, or the call has had MAX_READ_ROUNDS rounds of gets or MAX_READ_GETS gets. Then it
 * answers with what it has, as Holochain's get answers none when no authority answers in time. Past
 * READS_DEADLINE_MS the call fails instead (ReadsTimedOutError).
 */
import { missKey, type ReadMiss } from './remote-reads.ts'

/** Rounds of gets one call may make: a task's links, the task, its claims' links, the claims. */
export const MAX_READ_ROUNDS = 4
/** Gets one call may make over all its rounds: a list of the open tasks reads each. */
export const MAX_READ_GETS = 256
/**
 * How long one call's gets may take, all rounds together (ms): each holder asked has its own timeout,
 * and a peer cut off from the holders would otherwise wait for each of every get, round after round.
 */
export const READS_DEADLINE_MS = 30_000

export interface RoundsSoFar {
  rounds: number
  /** The misses already asked (missKey): asked again they would bring nothing new. */
  asked: ReadonlySet<string>
}

export type RoundPlan =
  /** Answer with this run's outcome. */
  | { kind: 'answer' }
  /** Get these, then run again. */
  | { kind: 'fetch'; misses: ReadMiss[] }

export function planRound(sofar: RoundsSoFar, misses: readonly ReadMiss[]): RoundPlan {
  const fresh = new Map<string, ReadMiss>()
  for (const miss of misses) {
    const key = missKey(miss)
    if (!sofar.asked.has(key)) fresh.set(key, miss)
  }
  const left = MAX_READ_GETS - sofar.asked.size
  if (fresh.size === 0 || sofar.rounds >= MAX_READ_ROUNDS || left <= 0) return { kind: 'answer' }
  return { kind: 'fetch', misses: [...fresh.values()].slice(0, left) }
}

/** `sofar` after a round that asked `misses`. */
export function afterRound(sofar: RoundsSoFar, misses: readonly ReadMiss[]): RoundsSoFar {
  return { rounds: sofar.rounds + 1, asked: new Set([...sofar.asked, ...misses.map(missKey)]) }
}

export const NO_ROUNDS: RoundsSoFar = { rounds: 0, asked: new Set() }
