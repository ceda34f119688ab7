/**
 * The shared vector memory of the mesh, on one peer. Collections are entries of memory_shards; each
 * collection's shards are placed on the live peers that advertise memory capacity and have room, by
 * rendezvous hashing. The service wires its parts and runs the placement check:
 * - collections (./collection-admin.ts over ./collection-catalog.ts): create, list, describe;
 * - writes and queries (./memory-writes.ts, ./memory-queries.ts): routed to the holders placement
 *   gives each shard (./shard-placement.ts, planned by ./memory-plan.ts), texts embedded with the
 *   collection's pinned model file (./text-embedding.ts, ./model-pins.ts);
 * - shard keeping (./shard-keeper.ts): the shards held here (./shard-holdings.ts) caught up
 *   (./shard-catch-up.ts), announced, snapshotted (./shard-snapshots.ts) and repaired from their
 *   replicas (./replica-repair.ts, planned by ./repair-plan.ts);
 * - the server side (./memory-rpc.ts): what peers ask of the shards held here.
 */
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { Logger } from '../log/logger.ts'
import { DueRead } from '../runtime/due-read.ts'
import { CollectionAdmin } from './collection-admin.ts'
import { CollectionCatalog } from './collection-catalog.ts'
import type { MemoryDoc, MemoryQuery } from './memory-input.ts'
import type { MemoryPort } from './memory-port.ts'
import { MemoryQueries } from './memory-queries.ts'
import { MemoryRpc } from './memory-rpc.ts'
import type { MemoryTransport } from './memory-transport.ts'
import type { CollectionDetail, CollectionView, QueryResult, WriteResult } from './memory-views.ts'
import { MemoryWrites, type WriteOptions } from './memory-writes.ts'
import { ModelPins } from './model-pins.ts'
import { ReplicaRepair } from './replica-repair.ts'
import { ShardCatchUp } from './shard-catch-up.ts'
import { ShardHoldings } from './shard-holdings.ts'
import { ShardKeeper } from './shard-keeper.ts'
import { type MemoryPeer, ShardPlacement } from './shard-placement.ts'
import { ShardSnapshots, type SnapshotStore } from './shard-snapshots.ts'
import { type Embedder, TextEmbedding } from './text-embedding.ts'

export type { Embedder } from './text-embedding.ts'

export interface MemoryServiceInit {
  conductor: Pick<ConductorPort, 'callZome' | 'agentPubKey'>
  transport: MemoryTransport
  /** Where this peer's shards and model pins live (`<data dir>/memory`). */
  dir: string
  /** The live peers, this one included, with the memory capacity each advertises. */
  peers: () => Promise<MemoryPeer[]>
  embed?: Embedder
  snapshots?: SnapshotStore
  /**
   * Resolves true once this peer holds an action (false after `timeoutMs`): a collection a peer writes
   * to or asks about may reach this peer a moment after the request. Without it, an unknown one is refused.
   */
  waitForRecord?: (actionHash: string, timeoutMs: number) => Promise<boolean>
  /** How often placement is checked (joins, leaves, new collections); default 2 s. */
  reconcileIntervalMs?: number
  /**
   * Calls back when ops of a DNA were stored here: the collections are read again then (and every
   * `rereadMs`), not at every check. Without it, every check reads them.
   */
  onRecordsStored?: (dna: 'memory_shards', listener: () => void) => () => void
  /** With `onRecordsStored`, how often the collections are read all the same; default 30 s. */
  rereadMs?: number
  /** Writes to a shard after which its first holder publishes a snapshot; default 2,000. */
  snapshotAfterWrites?: number
  /** How often a holder compares each shard with its other holders and pulls what it misses; default 30 s. */
  repairIntervalMs?: number
  /** Repair leaves out writes younger than this (they may still be on their way); default 10 s. */
  repairSettleMs?: number
  logger: Logger
}

const DEFAULT_RECONCILE_MS = 2000
const DEFAULT_REREAD_MS = 30_000
const DEFAULT_SNAPSHOT_AFTER = 2000
const DEFAULT_REPAIR_MS = 30_000
const DEFAULT_REPAIR_SETTLE_MS = 10_000

export class MemoryService implements MemoryPort {
  readonly #init: MemoryServiceInit
  readonly #catalog: CollectionCatalog
  readonly #holdings: ShardHoldings
  readonly #pins: ModelPins
  readonly #rpc: MemoryRpc
  readonly #admin: CollectionAdmin
  readonly #writes: MemoryWrites
  readonly #queries: MemoryQueries
  readonly #catchUp: ShardCatchUp
  readonly #repair: ReplicaRepair
  readonly #keeper: ShardKeeper
  readonly #reads: DueRead
  #timer: NodeJS.Timeout | null = null
  #unstored: (() => void) | undefined
  /** Aborted at stop: placement checks, catch-ups and repairs end between two steps. */
  #abort = new AbortController()

  constructor(init: MemoryServiceInit) {
    this.#init = init
    const { conductor, logger } = init
    const me = conductor.agentPubKey
    const catalog = new CollectionCatalog({ conductor, waitForRecord: init.waitForRecord })
    this.#reads = new DueRead(init.onRecordsStored ? (init.rereadMs ?? DEFAULT_REREAD_MS) : 0)
    const holdings = new ShardHoldings(init.dir, logger)
    const snapshots = new ShardSnapshots({
      conductor,
      holdings,
      store: init.snapshots,
      afterWrites: init.snapshotAfterWrites ?? DEFAULT_SNAPSHOT_AFTER,
      logger,
    })
    const placement = new ShardPlacement({ catalog, snapshots, peers: init.peers })
    const rpc = new MemoryRpc({
      me,
      transport: init.transport,
      catalog,
      holdings,
      prepare: (known, shard) => this.#catchUp.prepare(known, shard, this.#abort.signal),
    })
    const { ask } = rpc
    const pins = new ModelPins(init.dir, logger)
    const embedding = new TextEmbedding(init.embed, pins)
    this.#catchUp = new ShardCatchUp({
      me,
      conductor,
      holdings,
      placement,
      snapshots,
      ask,
      onReady: () => void this.reconcile().catch(() => {}),
      logger,
    })
    this.#repair = new ReplicaRepair({
      holdings,
      ask,
      intervalMs: init.repairIntervalMs ?? DEFAULT_REPAIR_MS,
      settleMs: init.repairSettleMs ?? DEFAULT_REPAIR_SETTLE_MS,
      logger,
    })
    this.#keeper = new ShardKeeper({
      me,
      conductor,
      catalog,
      placement,
      holdings,
      catchUp: this.#catchUp,
      repair: this.#repair,
      snapshots,
      reads: this.#reads,
    })
    this.#catalog = catalog
    this.#holdings = holdings
    this.#pins = pins
    this.#rpc = rpc
    this.#admin = new CollectionAdmin({ conductor, catalog, placement, holdings })
    this.#writes = new MemoryWrites({ placement, embedding, ask, logger })
    this.#queries = new MemoryQueries({ placement, embedding, ask, logger })
  }

  async start(): Promise<void> {
    this.#abort = new AbortController()
    const { signal } = this.#abort
    await this.#rpc.listen()
    this.#unstored = this.#init.onRecordsStored?.('memory_shards', () => {
      this.#reads.markStale()
      void this.reconcile().catch(() => {})
    })
    const tick = () => {
      this.reconcile()
        .catch((err: unknown) => this.#init.logger.warn({ err }, 'memory placement check failed'))
        .finally(() => {
          if (!signal.aborted)
            this.#timer = setTimeout(tick, this.#init.reconcileIntervalMs ?? DEFAULT_RECONCILE_MS)
        })
    }
    tick()
  }

  async stop(): Promise<void> {
    this.#abort.abort()
    this.#unstored?.()
    if (this.#timer) clearTimeout(this.#timer)
    await this.#keeper.settled()
    await Promise.all([this.#catchUp.settled(), this.#repair.settled()])
    await this.#rpc.stop()
    this.#holdings.close()
    this.#pins.close()
  }

  // ---- collections ----

  async create(input: unknown): Promise<CollectionView> {
    const created = await this.#admin.create(input)
    this.#reads.markStale()
    void this.reconcile().catch(() => {})
    return created
  }

  list(): Promise<CollectionView[]> {
    return this.#admin.list()
  }

  /** A collection and where each of its shards is. */
  show(name: string): Promise<CollectionDetail> {
    return this.#admin.show(name)
  }

  /** Shards held here, ready or catching up (what the capability advertises). */
  shardsHeld(): number {
    return this.#holdings.count()
  }

  /** The memory the shards held here take (their search indexes). */
  heldBytes(): number {
    return this.#holdings.bytes()
  }

  // ---- writes and reads ----

  /** Checks every document first (nothing is sent when one is wrong), embeds texts, writes to every holder. */
  async upsert(name: string, docs: readonly MemoryDoc[], options: WriteOptions = {}): Promise<WriteResult> {
    return this.#writes.upsert(await this.#catalog.get(name), docs, options)
  }

  async delete(name: string, ids: readonly string[], options: WriteOptions = {}): Promise<WriteResult> {
    return this.#writes.delete(await this.#catalog.get(name), ids, options)
  }

  async query(
    name: string,
    input: MemoryQuery,
    options: { signal?: AbortSignal } = {},
  ): Promise<QueryResult> {
    return this.#queries.query(await this.#catalog.get(name), input, options)
  }

  // ---- placement ----

  /** Opens (and catches up) the shards placement gives this peer, announces them, snapshots them. */
  reconcile(): Promise<void> {
    return this.#keeper.check(this.#abort.signal)
  }
}
