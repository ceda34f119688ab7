/** The replicator's counters for ops received, by the route they came (ReplicationStats). */
import type { ReplicationStats } from '../../../interface/network-port.ts'
import type { OpOutcome } from './ingest-result.ts'

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
