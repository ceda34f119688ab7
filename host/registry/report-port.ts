/**
 * What services built after the registry add to this peer's heartbeat and capability, and the
 * registry and the capability read back (./peer-report.ts keeps them).
 */
import type { Heartbeat } from '../../zomes-bindings/index.ts'

export interface ReportParts {
  /** Tasks waiting to run here. */
  queueDepth: () => number
  /** The splits this peer heads, with each peer's share. */
  splits: () => NonNullable<Heartbeat['splits']>
  /** Shards of the shared memory held here. */
  shardsHeld: () => number
}

export interface ReportPort {
  /** Each part has one owner: a part added twice is an error. */
  add(parts: Partial<ReportParts>): void
  /** What the parts say; a part nobody added reads as nothing to report. */
  queueDepth(): number
  splits(): NonNullable<Heartbeat['splits']>
  shardsHeld(): number
}
