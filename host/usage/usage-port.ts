/**
 * What the rest of the node asks of this peer's usage ledger: the conductor it signs leaves through
 * (so each window is totalled), the /v1 edge's notes, the rows the API, the policies and the metrics
 * read, and the rows the daemon keeps across restarts.
 */
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { RowsPage } from './usage-index.ts'
import type { UsageEvent, UsageNote, UsageRow } from './usage-totals.ts'

export interface UsagePort {
  /** The conductor, with this ledger told of each batch of leaves it signs. */
  watch<C extends Pick<ConductorPort, 'callZome'>>(conductor: C): C
  /** What this peer knows of a request that the leaf does not say: who asked, and its reasoning. */
  note(request: string, note: UsageNote): void
  /** Called with each window's events as it is signed; answers the listener's removal. */
  onEvents(listener: (events: readonly UsageEvent[]) => void): () => void
  /** Replaces every row (a restart: the rows rebuilt from this peer's own windows). */
  replace(rows: readonly UsageRow[]): void
  /** The hourly rows from `sinceMs` on. */
  rows(sinceMs?: number): UsageRow[]
  /** What this peer served `member` from `sinceMs` on (its recent usage, for the policies). */
  servedTo(member: string, sinceMs: number): { requests: number; tokens: number }
  /** `member`'s rows from `sinceMs` on without the API keys, whole hours up to `limit` rows a page. */
  about(member: string, sinceMs: number, limit: number): RowsPage
  /** Requests each runner served this peer from `sinceMs` on that its proof and this peer's own leaf accept. */
  acceptedFrom(sinceMs: number): Map<string, number>
}
