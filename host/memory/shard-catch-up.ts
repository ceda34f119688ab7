/**
 * Makes this peer's copy of a shard ready. A new shard (no snapshot, nobody else ever announced
 * holding it) has nothing to catch up from: every write it had went to its holders, this one
 * included, so it is ready at once. Any other copy loads the latest snapshot when it is empty, then
 * pulls the writes a ready holder has after its newest. One catch-up per shard at a time.
 */
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { Logger } from '../log/logger.ts'
import { pullChanges } from './change-pull.ts'
import { ShardUnavailableError } from './memory-errors.ts'
import { shardKey } from './memory-plan.ts'
import type { AskHolder } from './memory-rpc.ts'
import type { KnownCollection, ShardHoldings } from './shard-holdings.ts'
import type { ShardPlacement } from './shard-placement.ts'
import type { ShardSnapshots } from './shard-snapshots.ts'

/** Writes from before a restart that a holder may have missed: look back this far past its newest. */
const CLOCK_SLACK_MS = 60_000

export interface ShardCatchUpInit {
  me: string
  conductor: Pick<ConductorPort, 'callZome'>
  holdings: ShardHoldings
  placement: ShardPlacement
  snapshots: ShardSnapshots
  ask: AskHolder
  /** A shard was made ready on a request: announce it (and check the rest) now, not at the next check. */
  onReady: () => void
  logger: Logger
}

export class ShardCatchUp {
  readonly #init: ShardCatchUpInit
  readonly #running = new Map<string, Promise<void>>()

  constructor(init: ShardCatchUpInit) {
    this.#init = init
  }

  /** Starts catching a shard up (once at a time) from the latest snapshot and its other `holders`. */
  start(known: KnownCollection, shard: number, holders: readonly string[], signal: AbortSignal): void {
    const key = shardKey(known.hash, shard)
    if (this.#running.has(key)) return
    const others = holders.filter((a) => a !== this.#init.me)
    this.#running.set(
      key,
      this.#catchUp(known, shard, others, signal)
        .catch((err: unknown) =>
          this.#init.logger.warn({ err, shard: key }, 'memory shard catch-up failed; retrying'),
        )
        .finally(() => this.#running.delete(key)),
    )
  }

  /**
   * A request for a shard placement gives this peer, which it has not made ready yet (its placement
   * check has not run since the collection appeared): a new shard is made ready now, so a collection
   * answers right after it is created; any other starts catching up, and answers once it has.
   */
  async prepare(known: KnownCollection, shard: number, signal: AbortSignal): Promise<void> {
    if (this.#init.holdings.get(known.hash, shard)?.ready) return
    const holders = (await this.#init.placement.of(known.hash))[shard] ?? []
    if (!holders.includes(this.#init.me)) return
    if (await this.#readyIfNew(known, shard)) this.#init.onReady()
    else this.start(known, shard, holders, signal)
  }

  /** Resolves once every catch-up under way has ended. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#running.values())
  }

  /** Makes a new shard ready at once; false when it may have writes to catch up on. */
  async #readyIfNew(known: KnownCollection, shard: number): Promise<boolean> {
    const [snapshot, announced] = await Promise.all([
      this.#init.snapshots.latest(known.hash, shard),
      this.#announcedElsewhere(known, shard),
    ])
    if (snapshot !== null || announced.length > 0) return false
    const held = this.#init.holdings.open(known, shard)
    if (!held.ready) {
      held.ready = true
      this.#init.logger.info({ collection: known.collection.name, shard }, 'memory shard ready (new)')
    }
    return true
  }

  /** The latest snapshot when empty, then the writes a ready holder has after this copy's newest. */
  async #catchUp(
    known: KnownCollection,
    shard: number,
    others: readonly string[],
    signal: AbortSignal,
  ): Promise<void> {
    if (await this.#readyIfNew(known, shard)) return
    const { holdings, logger } = this.#init
    const held = holdings.open(known, shard)
    // Aborted when the service stops, so stopping never waits on a transfer.
    const since = held.store.newest() ?? (await this.#init.snapshots.load(known, shard, signal))
    const after = { updated_at: since === null ? 0 : Math.max(0, since - CLOCK_SLACK_MS), id: '' }
    let sourced = others.length === 0
    for (const agent of others) {
      try {
        await pullChanges({ ask: this.#init.ask, agent }, { holdings, known, shard }, { after }, signal)
        sourced = true
        break
      } catch (err) {
        logger.debug({ err, agent, shard }, 'memory catch-up: holder not ready, trying the next')
      }
    }
    // No ready holder anywhere (a new collection, or every replica new): there is nothing more to fetch.
    if (!sourced && !(await this.#anyLiveElsewhere(known, shard, others))) sourced = true
    if (!sourced) throw new ShardUnavailableError(shard, 'no ready holder answered the catch-up yet')
    held.ready = true
    logger.info({ collection: known.collection.name, shard, docs: held.store.count() }, 'memory shard ready')
  }

  /** Whether a live peer not just asked announced holding this shard (it may hold writes of it). */
  async #anyLiveElsewhere(known: KnownCollection, shard: number, asked: readonly string[]): Promise<boolean> {
    const [peers, announced] = await Promise.all([
      this.#init.placement.peers(),
      this.#announcedElsewhere(known, shard),
    ])
    const live = new Set(peers.map((p) => p.agent))
    return announced.some((agent) => live.has(agent) && !asked.includes(agent))
  }

  /** The other agents that announced holding this shard. */
  async #announcedElsewhere(known: KnownCollection, shard: number): Promise<string[]> {
    const announced = await this.#init.conductor.callZome('memory_shards', 'list_shard_holders', known.hash)
    return announced.flatMap((h) => (h.entry.shard === shard && h.author !== this.#init.me ? [h.author] : []))
  }
}
