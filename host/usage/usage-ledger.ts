/**
 * This peer's usage, totalled from the leaves it signs: it watches the conductor's batch writes
 * (`post_answer_batch` as runner, `record_served_batch` as requester; a write the rules refuse counts
 * nothing) and adds each window's leaves to hourly rows (usage-totals.ts). The /v1 edge notes each
 * answer's API key and reasoning tokens, which the leaves do not carry. At start the rows are
 * rebuilt from this peer's own windows on its chain (usage-file.ts, usage-rebuild.ts). The rows are
 * indexed by hour and member (usage-index.ts), and hours older than KEEP_MS leave as new ones come.
 */
import type { ZomeInput } from '../../zomes-bindings/index.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import { type RowsPage, UsageIndex } from './usage-index.ts'
import type { UsagePort } from './usage-port.ts'
import {
  answeredEvents,
  servedEvents,
  type UsageEvent,
  type UsageNote,
  type UsageRow,
} from './usage-totals.ts'

/** How long usage is kept: 31 days (what `list_own_windows` gives back at start, too). */
export const KEEP_MS = 31 * 24 * 3_600_000

/** Notes kept for requests whose leaves are not signed yet (the oldest go first beyond it). */
const MAX_NOTES = 10_000

type Window<F extends 'post_answer_batch' | 'record_served_batch'> = ZomeInput<'resource_mesh', F>

export class UsageLedger implements UsagePort {
  readonly #rows = new UsageIndex()
  readonly #now: () => number
  readonly #notes = new Map<string, UsageNote>()
  readonly #listeners = new Set<(events: readonly UsageEvent[]) => void>()

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  /** The conductor, with this ledger told of each batch of leaves it signs. */
  watch<C extends Pick<ConductorPort, 'callZome'>>(conductor: C): C {
    return new Proxy(conductor, {
      get: (target, key) => {
        const value = Reflect.get(target, key, target)
        if (key !== 'callZome') return typeof value === 'function' ? value.bind(target) : value
        const call: ConductorPort['callZome'] = async (dna, fn, payload, options) => {
          const out = await target.callZome(dna, fn, payload, options)
          if (dna === 'resource_mesh') this.#signed(fn, payload)
          return out
        }
        return call
      },
    })
  }

  /** What this peer knows of a request that the leaf does not say: who asked, and its reasoning. */
  note(request: string, note: UsageNote): void {
    this.#notes.delete(request)
    this.#notes.set(request, note)
    if (this.#notes.size > MAX_NOTES) this.#notes.delete(this.#notes.keys().next().value!)
  }

  /** Called with each window's events as it is signed (the metrics follow them). */
  onEvents(listener: (events: readonly UsageEvent[]) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Replaces every row (a restart: the rows rebuilt from this peer's own windows, usage-rebuild.ts). */
  replace(rows: readonly UsageRow[]): void {
    this.#rows.replace(rows)
    this.#rows.pruneBefore(this.#now() - KEEP_MS)
  }

  /** The hourly rows from `sinceMs` on. */
  rows(sinceMs = 0): UsageRow[] {
    return this.#rows.rows(sinceMs)
  }

  /** What this peer served `member` from `sinceMs` on (its recent usage, for the policies). */
  servedTo(member: string, sinceMs: number): { requests: number; tokens: number } {
    return this.#rows.servedTo(member, sinceMs)
  }

  /** `member`'s rows from `sinceMs` on without the API keys, whole hours up to `limit` rows a page. */
  about(member: string, sinceMs: number, limit: number): RowsPage {
    return this.#rows.about(member, sinceMs, limit)
  }

  /** Requests each runner served this peer from `sinceMs` on that its proof and this peer's own leaf accept. */
  acceptedFrom(sinceMs: number): Map<string, number> {
    return this.#rows.acceptedFrom(sinceMs)
  }

  #signed(fn: string, payload: unknown): void {
    const note = (request: string) => this.#notes.get(request)
    let events: UsageEvent[]
    if (fn === 'post_answer_batch')
      events = answeredEvents((payload as Window<'post_answer_batch'>).leaves.leaves, note)
    else if (fn === 'record_served_batch') {
      const window = payload as Window<'record_served_batch'>
      events = servedEvents(window.leaves.leaves, window.closed_at, note)
    } else return
    this.#rows.add(events)
    this.#rows.pruneBefore(this.#now() - KEEP_MS)
    for (const listener of this.#listeners) listener(events)
  }
}
