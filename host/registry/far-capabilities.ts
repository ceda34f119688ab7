/**
 * The capabilities of other members as this peer last read them, one at a time (get_capability), for a
 * peer that does not hold them all: on a sharded mesh a capability is a neighbourhood record, and
 * reading every member's (list_nodes) costs O(N) reads from holders. A capability is read when a
 * member's heartbeat is heard and this peer has none of it, or the heartbeat names another version
 * (`cap`, its latest action hash), or, from a peer that names none (0.2.0), when the copy kept is older
 * than `STALE_MS`. Heartbeats heard come at a bounded rate whatever the mesh's size (the idle pace, the
 * topics), so the reads do too.
 */
import type { EntryRecord, NodeCapability } from '../../zomes-bindings/index.ts'

/** A copy kept this long is read again when a heartbeat that names no version is heard. */
export const STALE_MS = 60_000
/** Capabilities kept at most (those read longest ago go first). */
export const KEPT_MAX = 1024

interface Kept {
  record: EntryRecord<NodeCapability> | null
  readAt: number
}

export class FarCapabilities {
  readonly #kept = new Map<string, Kept>()
  /** The reads under way, by agent (one each at a time). */
  readonly #reading = new Map<string, Promise<EntryRecord<NodeCapability> | null>>()
  readonly #read: (agent: string) => Promise<EntryRecord<NodeCapability> | null>
  readonly #max: number

  /** `read`: get_capability; a failed read is left for the next heartbeat. */
  constructor(read: (agent: string) => Promise<EntryRecord<NodeCapability> | null>, max = KEPT_MAX) {
    this.#read = read
    this.#max = max
  }

  /** A member's heartbeat naming `cap` was heard: its capability is read when the copy kept will not do. */
  heard(agent: string, cap: string | undefined, now = Date.now()): void {
    if (!this.#reading.has(agent) && this.wants(agent, cap, now)) this.#readNow(agent).catch(() => {})
  }

  /** `agent`'s capability as kept, else read now (what the scheduler asks of a member it has not heard). */
  async get(agent: string): Promise<EntryRecord<NodeCapability> | null> {
    const kept = this.#kept.get(agent)
    return kept ? kept.record : (this.#reading.get(agent) ?? this.#readNow(agent))
  }

  #readNow(agent: string): Promise<EntryRecord<NodeCapability> | null> {
    const reading = this.#read(agent)
      .then((record) => {
        this.keep(agent, record, Date.now())
        return record
      })
      .finally(() => this.#reading.delete(agent))
    this.#reading.set(agent, reading)
    return reading
  }

  /** Whether a heartbeat from `agent` naming `cap` (undefined: names none) calls for a read. */
  wants(agent: string, cap: string | undefined, now: number): boolean {
    const kept = this.#kept.get(agent)
    if (kept === undefined) return true
    if (cap !== undefined) return cap !== kept.record?.action_hash
    return now - kept.readAt >= STALE_MS
  }

  /** What a read gave (null: no capability found), at `now`. */
  keep(agent: string, record: EntryRecord<NodeCapability> | null, now: number): void {
    this.#kept.delete(agent)
    this.#kept.set(agent, { record, readAt: now })
    if (this.#kept.size > this.#max) this.#kept.delete(this.#kept.keys().next().value as string)
  }

  /** Every capability kept. */
  records(): EntryRecord<NodeCapability>[] {
    return [...this.#kept.values()].flatMap((kept) => kept.record ?? [])
  }
}
