/**
 * This peer's usage, totalled from the leaves it signs: it watches the conductor's batch writes
 * (`post_answer_batch` as runner, `record_served_batch` as requester; a write the rules refuse counts
 * nothing) and adds each window's leaves to hourly rows (usage-totals.ts). The /v1 edge notes each
 * answer's API key and reasoning tokens, which the leaves do not carry. At start the rows are
 * rebuilt from this peer's own windows on its chain (usage-file.ts, usage-rebuild.ts).
 */
import type { ZomeInput } from '../../zomes-bindings/index.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { UsagePort } from './usage-port.ts'
import {
  addEvents,
  answeredEvents,
  rowId,
  rowsSince,
  servedEvents,
  type UsageEvent,
  type UsageNote,
  type UsageRow,
} from './usage-totals.ts'

/** Notes kept for requests whose leaves are not signed yet (the oldest go first beyond it). */
const MAX_NOTES = 10_000

type Window<F extends 'post_answer_batch' | 'record_served_batch'> = ZomeInput<'resource_mesh', F>

export class UsageLedger implements UsagePort {
  readonly #rows = new Map<string, UsageRow>()
  readonly #notes = new Map<string, UsageNote>()
  readonly #listeners = new Set<(events: readonly UsageEvent[]) => void>()

  /** The conductor, with this ledger told of each batch of leaves it signs. */
  watch<C extends Pick<ConductorPort, 'callZome'>>(conductor: C): C {
    return new Proxy(conductor, {
      get: (target, key) => {
        const value = Reflect.get(target, key, target)
        if (key !== 'callZome') return typeof value === 'function' ? value.bind(target) : value
        const call: ConductorPort['callZome'] = async (dna, fn, payload) => {
          const out = await target.callZome(dna, fn, payload)
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
    this.#rows.clear()
    for (const r of rows) this.#rows.set(rowId(r), { ...r })
  }

  /** The hourly rows from `sinceMs` on. */
  rows(sinceMs = 0): UsageRow[] {
    return rowsSince(this.#rows.values(), sinceMs)
  }

  /** What this peer served `member` from `sinceMs` on (its recent usage, for the policies). */
  servedTo(member: string, sinceMs: number): { requests: number; tokens: number } {
    const rows = this.rows(sinceMs).filter((r) => r.direction === 'served' && r.member === member)
    return {
      requests: rows.reduce((n, r) => n + r.requests, 0),
      tokens: rows.reduce((n, r) => n + r.tokens_in + r.tokens_out, 0),
    }
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
    addEvents(this.#rows, events)
    for (const listener of this.#listeners) listener(events)
  }
}
