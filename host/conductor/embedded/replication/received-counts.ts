/**
 * The replicator's counters for ops received, by the route they came (ReplicationStats), and what a
 * received batch earns.
 */
import { encodeHashB64 } from '../../../identity/hash.ts'
import type { ReplicationStats } from '../../../interface/network-port.ts'
import type { GossipVerdict } from '../../../net/pubsub.ts'
import type { StoredAction } from '../../../storage/chain-store.ts'
import type { OpOutcome } from './ingest-result.ts'
import { noPushes } from './op-push.ts'

export type Route = 'gossip' | 'catch-up' | 'carried' | 'pushed' | 'got'

/** Adds one received batch of `ops` ops, ingested as `counts`, to `stats`. */
export function countReceived(
  stats: Omit<ReplicationStats, 'pending'>,
  route: Route,
  ops: number,
  counts: Readonly<Record<OpOutcome, number>>,
): void {
  if (route === 'gossip') stats.gossiped += ops
  else if (route === 'catch-up') {
    stats.fetched += ops
    stats.refetched += counts.duplicate
  }
  stats.stored += counts.stored
  stats.duplicates += counts.duplicate
  stats.ignored += counts.ignored
  stats.rejected += counts.rejected
}

/** The replicator's counters at zero (`pending` is read from the ingest when asked). */
export function noStats(): Omit<ReplicationStats, 'pending'> {
  const zero = { published: 0, gossiped: 0, fetched: 0, refetched: 0, stored: 0, duplicates: 0 }
  return { ...zero, ignored: 0, rejected: 0, syncs: 0, pushes: noPushes() }
}

/**
 * What a gossiped batch, ingested as `counts` (undefined: not taken in), earns: passed on only when it
 * held nothing invalid and something taken (ops waiting for what they build on were verified).
 */
export function gossipVerdict(counts: Readonly<Record<OpOutcome, number>> | undefined): GossipVerdict {
  if (counts === undefined) return 'ignore'
  if (counts.rejected > 0) return 'reject'
  return counts.stored + counts.pending + counts.duplicate > 0 ? 'accept' : 'ignore'
}

/** Stored actions by DNA (its hash, base64), each DNA's in store order. */
export function byDna(actions: readonly StoredAction[]): Map<string, StoredAction[]> {
  const out = new Map<string, StoredAction[]>()
  for (const action of actions) {
    const key = encodeHashB64(action.dnaHash)
    const list = out.get(key)
    if (list === undefined) out.set(key, [action])
    else list.push(action)
  }
  return out
}
