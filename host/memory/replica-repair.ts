/**
 * Replica repair between this copy of a shard and another holder's: walks the other's bucket digests
 * down from the root, only under buckets that differ from this copy's (`repair-plan.ts`), and pulls
 * (checked) the writes of the finest buckets that differ. Last-writer-wins makes a pulled write that
 * is older than this copy's a no-op. Each pair is compared now and then, and at once when the other
 * holder comes back (it may have missed writes, or this copy did while it was away).
 */
import type { Logger } from '../log/logger.ts'
import { pullChanges } from './change-pull.ts'
import { shardKey } from './memory-plan.ts'
import type { AskHolder } from './memory-rpc.ts'
import { repairFrom } from './repair-plan.ts'
import type { KnownCollection, ShardHoldings } from './shard-holdings.ts'

export interface ReplicaRepairInit {
  holdings: ShardHoldings
  ask: AskHolder
  /** How often each pair of holders of a shard is compared. */
  intervalMs: number
  /** Writes younger than this are left out (they may still be on their way). */
  settleMs: number
  logger: Logger
}

export class ReplicaRepair {
  readonly #init: ReplicaRepairInit
  /** Repairs under way, and when each (shard, other holder) was last compared, by `<shard key>/<agent>`. */
  readonly #running = new Map<string, Promise<void>>()
  readonly #comparedAt = new Map<string, number>()

  constructor(init: ReplicaRepairInit) {
    this.#init = init
  }

  /** Starts comparing with `other` when the last comparison is older than the interval, or it `returned`. */
  due(known: KnownCollection, shard: number, other: string, returned: boolean, signal: AbortSignal): void {
    const key = `${shardKey(known.hash, shard)}/${other}`
    const since = Date.now() - (this.#comparedAt.get(key) ?? 0)
    if (this.#running.has(key) || (!returned && since < this.#init.intervalMs)) return
    this.#comparedAt.set(key, Date.now())
    this.#running.set(
      key,
      this.#repair(known, shard, other, signal)
        .catch((err: unknown) =>
          // Unreachable, or not ready there yet: the next round tries again.
          this.#init.logger.debug({ err, shard, other }, 'memory replica repair did not finish'),
        )
        .finally(() => this.#running.delete(key)),
    )
  }

  /** Resolves once every repair under way has ended. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#running.values())
  }

  async #repair(known: KnownCollection, shard: number, other: string, signal: AbortSignal): Promise<void> {
    const { holdings, ask } = this.#init
    const held = holdings.get(known.hash, shard)
    if (!held?.ready) return
    const pulled = await repairFrom(
      {
        mine: (range) => held.store.digests(range.level, range.from, range.to),
        theirs: async (range) => {
          const reply = await ask(other, { op: 'digests', collection: known.hash, shard, ...range }, signal)
          return reply.op === 'digests' ? reply.digests : []
        },
        pull: ({ from, before }) =>
          pullChanges(
            { ask, agent: other },
            { holdings, known, shard },
            { after: { updated_at: from, id: '' }, before },
            signal,
          ),
      },
      Date.now() - this.#init.settleMs,
      signal,
    )
    if (pulled > 0)
      this.#init.logger.info(
        { collection: known.collection.name, shard, from: other, writes: pulled },
        'memory shard repaired from a replica',
      )
  }
}
