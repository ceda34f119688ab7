/**
 * What services built after the registry say in this peer's heartbeat and capability: the scheduler
 * its queue, the splits this peer heads, the memory shards it holds. They are built after it (they
 * read its peer view), so each adds its own part once built, rather than the registry reading them;
 * a part nobody added reads as nothing to report, and a part added twice is an error (one owner each).
 */
import type { Heartbeat } from '../../zomes-bindings/index.ts'
import type { ReportParts, ReportPort } from './report-port.ts'

export class PeerReport implements ReportPort {
  readonly #parts: Partial<ReportParts> = {}

  add(parts: Partial<ReportParts>): void {
    for (const key of Object.keys(parts) as (keyof ReportParts)[])
      if (this.#parts[key] !== undefined) throw new Error(`this peer's ${key} is reported twice`)
    Object.assign(this.#parts, parts)
  }

  queueDepth(): number {
    return this.#parts.queueDepth?.() ?? 0
  }

  splits(): NonNullable<Heartbeat['splits']> {
    return this.#parts.splits?.() ?? []
  }

  shardsHeld(): number {
    return this.#parts.shardsHeld?.() ?? 0
  }
}
