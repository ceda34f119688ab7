/**
 * Keeps the shards placement gives this peer. Each placement check (joins, leaves, new collections)
 * opens them, starts catching up the copies not ready, announces the ready ones as a ShardHolder, has
 * the first holder of each publish snapshots, compares each with its other holders now and then, and
 * saves the changed indexes every so often. One check at a time.
 */
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { DueRead } from '../runtime/due-read.ts'
import { type CollectionCatalog, knownOf } from './collection-catalog.ts'
import { shardKey, shardsOf } from './memory-plan.ts'
import type { ReplicaRepair } from './replica-repair.ts'
import type { ShardCatchUp } from './shard-catch-up.ts'
import type { ShardHoldings } from './shard-holdings.ts'
import type { ShardPlacement } from './shard-placement.ts'
import type { ShardSnapshots } from './shard-snapshots.ts'

/** How often changed shard indexes are saved (and at stop); a crash in between only costs a rebuild. */
const SAVE_INTERVAL_MS = 60_000

export interface ShardKeeperInit {
  me: string
  conductor: Pick<ConductorPort, 'callZome'>
  catalog: CollectionCatalog
  placement: ShardPlacement
  holdings: ShardHoldings
  catchUp: ShardCatchUp
  repair: ReplicaRepair
  snapshots: ShardSnapshots
  /** When the collections (and their snapshots' sizes) are read again. */
  reads: DueRead
}

export class ShardKeeper {
  readonly #init: ShardKeeperInit
  /** Shards announced as held here, by shard key. */
  readonly #announced = new Set<string>()
  /** The live peers of the last check: one that comes back is compared with at once. */
  #lastLive = new Set<string>()
  #checking: Promise<void> | null = null
  #savedAt = Date.now()

  constructor(init: ShardKeeperInit) {
    this.#init = init
  }

  /** A placement check; one already under way is joined. `signal` ends it between two shards. */
  check(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve()
    this.#checking ??= this.#checkOnce(signal).finally(() => {
      this.#checking = null
    })
    return this.#checking
  }

  /** Resolves once the check under way (if any) has ended. */
  async settled(): Promise<void> {
    await this.#checking?.catch(() => {})
  }

  async #checkOnce(signal: AbortSignal): Promise<void> {
    const { me, catalog, placement, holdings, catchUp, repair, snapshots } = this.#init
    // The collections and their sizes, when they may have changed; peers join and leave at any check.
    await this.#init.reads.run(async () => {
      await catalog.refresh()
      await placement.refreshSizes()
    })
    const peers = await placement.peers()
    const placements = placement.all(peers)
    const live = new Set(peers.map((p) => p.agent))
    const returned = new Set([...live].filter((a) => !this.#lastLive.has(a)))
    this.#lastLive = live
    for (const record of catalog.named()) {
      const shards = placements.get(record.action_hash) ?? []
      const known = knownOf(record)
      for (const shard of shardsOf(shards, me)) {
        if (signal.aborted) return
        const holders = shards[shard] ?? []
        if (!holdings.open(known, shard).ready) {
          catchUp.start(known, shard, holders, signal)
          continue
        }
        await this.#announce(record.action_hash, shard)
        if (holders[0] === me && (await snapshots.publishIfDue(known, shard))) this.#init.reads.markStale()
        for (const other of holders)
          if (other !== me) repair.due(known, shard, other, returned.has(other), signal)
      }
    }
    // Saving writes a whole index file: every so often, not on every check (SQLite has every write).
    if (Date.now() - this.#savedAt >= SAVE_INTERVAL_MS) {
      holdings.save()
      this.#savedAt = Date.now()
    }
  }

  /** Records this peer as a holder of a ready shard, once. */
  async #announce(collection: string, shard: number): Promise<void> {
    const key = shardKey(collection, shard)
    if (this.#announced.has(key)) return
    await this.#init.conductor.callZome('memory_shards', 'announce_shard_holder', {
      collection,
      shard,
      holder: this.#init.me,
    })
    this.#announced.add(key)
  }
}
