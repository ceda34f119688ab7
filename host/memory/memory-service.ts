/**
 * The shared vector memory of the mesh. Collections are entries of memory_shards; each collection's
 * shards are placed on the live peers that advertise memory capacity and have room, by rendezvous
 * hashing (`memory-plan.ts`). A write goes to every holder of its document's shard; a query goes to one
 * ready holder per shard (the least loaded; another replica when it fails) and the answers are merged
 * into the top k, saying which shards answered and which are missing. A peer keeps its own shards
 * (`shard-holdings.ts`): a new shard is ready at once, another catches up from the latest snapshot on
 * IPFS and a ready holder; it announces itself as a ShardHolder, compares its copy with the other
 * holders' now and then and pulls what it missed (`repair-plan.ts`), and the first holder of a shard
 * publishes snapshots as writes accumulate.
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { decode, encode } from '@msgpack/msgpack'
import { type Collection, CollectionSchema, type EntryRecord } from '../../zomes-bindings/index.ts'
import type { ConductorPort } from '../conductor/port.ts'
import type { Logger } from '../log/logger.ts'
import {
  CollectionExistsError,
  EmbeddingModelChangedError,
  InvalidMemoryInputError,
  NoMemoryRoomError,
  ShardUnavailableError,
  UnknownCollectionError,
} from './memory-errors.ts'
import {
  checkMetadata,
  checkVector,
  MEMORY_LIMITS,
  type MemoryDoc,
  MemoryDocSchema,
  type MemoryQuery,
  MemoryQuerySchema,
  parseMemoryInput,
} from './memory-input.ts'
import {
  docBytes,
  mergeTopK,
  placeCollections,
  planQuery,
  type ShardDemand,
  shardOf,
  shardsOf,
} from './memory-plan.ts'
import type { MemoryTransport } from './memory-transport.ts'
import type { CollectionDetail, CollectionView, QueryResult, WriteResult } from './memory-views.ts'
import {
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  fromWire,
  type MemoryReply,
  type MemoryRequest,
  toWire,
} from './memory-wire.ts'
import { repairFrom } from './repair-plan.ts'
import { CLOCK_SLACK_MS, type KnownCollection, ShardHoldings } from './shard-holdings.ts'
import type { DocWrite } from './shard-store.ts'

/** A live peer, with its load (0..1) to route queries by and the bytes it gives the memory (0: none). */
export interface MemoryPeer {
  agent: string
  load: number
  capacity: number
}

/** Keeps and fetches a shard's snapshot bytes by CID (IPFS). */
export interface SnapshotStore {
  put(bytes: Uint8Array, signal?: AbortSignal): Promise<string>
  get(cid: string, signal?: AbortSignal): Promise<Uint8Array>
}

/** Embeds texts with a model of the mesh (an `infer.embed` task); answers the model file's hash too. */
export type Embedder = (
  model: string,
  texts: string[],
  signal?: AbortSignal,
) => Promise<{ vectors: number[][]; file_hash: string }>

export interface MemoryServiceInit {
  conductor: Pick<ConductorPort, 'callZome' | 'agentPubKey'>
  transport: MemoryTransport
  /** Where this peer's shards live (`<data dir>/memory`). */
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
  /** Writes to a shard after which its first holder publishes a snapshot; default 2,000. */
  snapshotAfterWrites?: number
  /** How often a holder compares each shard with its other holders and pulls what it misses; default 30 s. */
  repairIntervalMs?: number
  /** Repair leaves out writes younger than this (they may still be on their way); default 10 s. */
  repairSettleMs?: number
  logger: Logger
}

export interface WriteOptions {
  signal?: AbortSignal
  /** Documents written so far, of `total`. */
  onProgress?: (done: number, total: number) => void
}

const CHUNK_BYTES = 2 * 1024 * 1024
const CHANGES_PAGE = 1000
const EMBED_BATCH = 256
const DEFAULT_RECONCILE_MS = 2000
const DEFAULT_SNAPSHOT_AFTER = 2000
const DEFAULT_REPAIR_MS = 30_000
const DEFAULT_REPAIR_SETTLE_MS = 10_000
/** How often changed shard indexes are saved (and at stop); a crash in between only costs a rebuild. */
const SAVE_INTERVAL_MS = 60_000
/** A query waits this long for one holder before asking the next replica. */
const QUERY_TIMEOUT_MS = 3000
/** How long a request about a collection not held here yet waits for its entry to arrive. */
const COLLECTION_WAIT_MS = 3000
/** A holder that failed a query is asked last for this long (it may be gone; the registry says so later). */
const SUSPECT_MS = 30_000

export class MemoryService {
  readonly #init: MemoryServiceInit
  readonly #holdings: ShardHoldings
  readonly #announced = new Set<string>()
  readonly #catchingUp = new Map<string, Promise<void>>()
  /** Repairs under way, and when each (shard, other holder) was last compared, by `<shard key>/<agent>`. */
  readonly #repairing = new Map<string, Promise<void>>()
  readonly #repairedAt = new Map<string, number>()
  /** The live peers of the last placement check: one that comes back is compared with at once. */
  #lastLive = new Set<string>()
  /** Holders that failed a query lately, until when. */
  readonly #suspects = new Map<string, number>()
  #collections: EntryRecord<Collection>[] = []
  /** Per collection, each shard's bytes by its latest snapshot (refreshed by every placement check). */
  readonly #shardBytes = new Map<string, number[]>()
  #timer: NodeJS.Timeout | null = null
  #reconciling: Promise<void> | null = null
  #stopped = false
  /** Aborted at stop: repairs end between two requests. */
  #abort = new AbortController()
  #savedAt = Date.now()

  constructor(init: MemoryServiceInit) {
    this.#init = init
    this.#holdings = new ShardHoldings(init.dir, init.logger)
  }

  async start(): Promise<void> {
    this.#stopped = false
    this.#abort = new AbortController()
    await this.#init.transport.serve((bytes) => this.#answer(bytes))
    const tick = () => {
      this.reconcile()
        .catch((err: unknown) => this.#init.logger.warn({ err }, 'memory placement check failed'))
        .finally(() => {
          if (!this.#stopped)
            this.#timer = setTimeout(tick, this.#init.reconcileIntervalMs ?? DEFAULT_RECONCILE_MS)
        })
    }
    tick()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#abort.abort()
    if (this.#timer) clearTimeout(this.#timer)
    await this.#reconciling
    await Promise.allSettled([...this.#catchingUp.values(), ...this.#repairing.values()])
    await this.#init.transport.stop()
    this.#holdings.close()
  }

  // ---- collections ----

  async create(input: unknown): Promise<CollectionView> {
    const collection = parseMemoryInput(CollectionSchema, input, '')
    if ((await this.#find(collection.name, true)) !== null) throw new CollectionExistsError(collection.name)
    // Placed after every existing collection, with nothing in it yet: a shard without a holder now never gets one.
    const trial = '\u0000new'
    const placement = this.#placeAll(await this.#init.peers(), {
      collection: trial,
      replication: collection.replication,
      shardBytes: new Array(collection.shard_count).fill(0),
    }).get(trial)
    const unplaced = (placement ?? []).flatMap((holders, shard) => (holders.length === 0 ? [shard] : []))
    if (unplaced.length > 0) throw new NoMemoryRoomError(collection.name, unplaced)
    const ref = await this.#init.conductor.callZome('memory_shards', 'create_collection', collection)
    await this.#refresh()
    const created = this.#collections.find((c) => c.action_hash === ref.action_hash)
    if (created === undefined) throw new UnknownCollectionError(collection.name)
    void this.reconcile().catch(() => {})
    return view(created)
  }

  async list(): Promise<CollectionView[]> {
    await this.#refresh()
    return this.#named().map(view)
  }

  /** A collection and where each of its shards is. */
  async show(name: string): Promise<CollectionDetail> {
    const record = await this.#get(name)
    const placement = await this.#placement(record)
    const announced = await this.#init.conductor.callZome(
      'memory_shards',
      'list_shard_holders',
      record.action_hash,
    )
    return {
      ...view(record),
      shards: placement.map((holders, shard) => {
        const here = this.#holdings.get(record.action_hash, shard)
        return {
          shard,
          holders,
          announced: [...new Set(announced.filter((h) => h.entry.shard === shard).map((h) => h.author))],
          here: here ? { ready: here.ready, docs: here.store.count(), digest: here.store.digest() } : null,
        }
      }),
    }
  }

  /** Shards held here, ready or catching up (what the capability advertises). */
  shardsHeld(): number {
    return this.#holdings.list().length
  }

  // ---- writes and reads ----

  /** Checks every document first (nothing is sent when one is wrong), embeds texts, writes to every holder. */
  async upsert(name: string, docs: readonly MemoryDoc[], options: WriteOptions = {}): Promise<WriteResult> {
    const record = await this.#get(name)
    const collection = record.entry
    if (docs.length === 0) throw new InvalidMemoryInputError('docs', 'give at least one document')
    if (docs.length > MEMORY_LIMITS.batch) {
      throw new InvalidMemoryInputError(
        'docs',
        `${docs.length} documents; at most ${MEMORY_LIMITS.batch} a request`,
      )
    }
    const parsed = docs.map((d, i) => parseMemoryInput(MemoryDocSchema, d, `docs.${i}`))
    const now = Date.now()
    const writes: (DocWrite | null)[] = parsed.map((d, i) => {
      checkMetadata(d.metadata, `docs.${i}.metadata`)
      if (d.vector === undefined) return null
      return {
        id: d.id,
        vector: checkVector(collection, d.vector, `docs.${i}.vector`),
        metadata: d.metadata,
        updated_at: now,
      }
    })
    const texts = parsed.flatMap((d, i) => (d.text === undefined ? [] : [{ i, text: d.text }]))
    if (texts.length > 0) {
      const vectors = await this.#embed(
        record,
        texts.map((t) => t.text),
        'text',
        options.signal,
      )
      for (const [j, { i }] of texts.entries()) {
        const d = parsed[i]
        if (d === undefined) continue
        writes[i] = {
          id: d.id,
          vector: checkVector(collection, vectors[j] ?? [], `docs.${i}.text`),
          metadata: d.metadata,
          updated_at: now,
        }
      }
    }
    return this.#write(
      record,
      writes.filter((w): w is DocWrite => w !== null),
      options,
    )
  }

  async delete(name: string, ids: readonly string[], options: WriteOptions = {}): Promise<WriteResult> {
    const record = await this.#get(name)
    if (ids.length === 0) throw new InvalidMemoryInputError('ids', 'give at least one id')
    for (const [i, id] of ids.entries()) {
      if (typeof id !== 'string' || id.length === 0 || id.length > MEMORY_LIMITS.id) {
        throw new InvalidMemoryInputError(`ids.${i}`, `an id is 1 to ${MEMORY_LIMITS.id} characters`)
      }
    }
    const now = Date.now()
    return this.#write(
      record,
      ids.map((id) => ({ id, vector: null, metadata: {}, updated_at: now })),
      options,
    )
  }

  async query(
    name: string,
    input: MemoryQuery,
    options: { signal?: AbortSignal } = {},
  ): Promise<QueryResult> {
    const record = await this.#get(name)
    const q = parseMemoryInput(MemoryQuerySchema, input, '')
    const filter = checkMetadata(q.filter, 'filter')
    const vector =
      q.vector !== undefined
        ? checkVector(record.entry, q.vector, 'vector')
        : checkVector(
            record.entry,
            (await this.#embed(record, [q.text ?? ''], 'text', options.signal))[0] ?? [],
            'text',
          )
    const peers = await this.#init.peers()
    const loads = new Map(peers.map((p) => [p.agent, p.load]))
    const placement = this.#placeAll(peers).get(record.action_hash) ?? []
    // A holder that failed lately is asked last: it may be gone, and the registry says so only later.
    const now = Date.now()
    const load = (a: string) =>
      (this.#suspects.get(a) ?? 0) > now ? Number.POSITIVE_INFINITY : (loads.get(a) ?? 1)
    const routes = planQuery(record.action_hash, placement, () => true, load)
    const bytes = new Uint8Array(vector.buffer as ArrayBuffer, vector.byteOffset, vector.byteLength)
    const answers = await Promise.all(
      routes.map(async ({ shard, holders }) => {
        const request: MemoryRequest = {
          op: 'query',
          collection: record.action_hash,
          shard,
          vector: bytes,
          k: q.k,
          filter,
        }
        for (const agent of holders) {
          try {
            const reply = await this.#ask(agent, request, options.signal, QUERY_TIMEOUT_MS)
            if (reply.op === 'query') return { shard, hits: reply.hits.map((h) => ({ ...h, shard })) }
          } catch (err) {
            options.signal?.throwIfAborted()
            this.#suspects.set(agent, Date.now() + SUSPECT_MS)
            // This replica could not answer (gone, not caught up): the next one does.
            this.#init.logger.debug({ err, shard, agent }, 'memory query: a holder failed, trying the next')
          }
        }
        return { shard, hits: null }
      }),
    )
    return {
      hits: mergeTopK(
        answers.map((a) => a.hits ?? []),
        q.k,
      ),
      shards_answered: answers.filter((a) => a.hits !== null).map((a) => a.shard),
      shards_missing: answers.filter((a) => a.hits === null).map((a) => a.shard),
    }
  }

  // ---- placement, catch-up, snapshots ----

  /** Opens (and catches up) the shards placement gives this peer, announces them, snapshots them. */
  reconcile(): Promise<void> {
    this.#reconciling ??= this.#reconcileOnce().finally(() => {
      this.#reconciling = null
    })
    return this.#reconciling
  }

  async #reconcileOnce(): Promise<void> {
    await this.#refresh()
    await this.#refreshShardBytes()
    const me = this.#init.conductor.agentPubKey
    const peers = await this.#init.peers()
    const placements = this.#placeAll(peers)
    const live = new Set(peers.map((p) => p.agent))
    const returned = new Set([...live].filter((a) => !this.#lastLive.has(a)))
    this.#lastLive = live
    for (const record of this.#named()) {
      const placement = placements.get(record.action_hash) ?? []
      const known = { hash: record.action_hash, collection: record.entry }
      for (const shard of shardsOf(placement, me)) {
        if (this.#stopped) return
        const held = this.#holdings.open(known, shard)
        const key = `${record.action_hash}/${shard}`
        if (!held.ready) this.#startCatchUp(known, shard, placement[shard] ?? [])
        if (held.ready && !this.#announced.has(key)) {
          await this.#init.conductor.callZome('memory_shards', 'announce_shard_holder', {
            collection: record.action_hash,
            shard,
            holder: me,
          })
          this.#announced.add(key)
        }
        if (held.ready && placement[shard]?.[0] === me) await this.#maybeSnapshot(known, shard)
        if (held.ready)
          for (const other of placement[shard] ?? [])
            if (other !== me) this.#repairDue(known, shard, other, returned.has(other))
      }
    }
    // Saving writes a whole index file: every so often, not on every check (SQLite has every write).
    if (Date.now() - this.#savedAt >= SAVE_INTERVAL_MS) {
      this.#holdings.save()
      this.#savedAt = Date.now()
    }
  }

  /** Starts catching a shard up (once at a time) from the latest snapshot and its other `holders`. */
  #startCatchUp(known: KnownCollection, shard: number, holders: readonly string[]): void {
    const key = `${known.hash}/${shard}`
    if (this.#catchingUp.has(key)) return
    const me = this.#init.conductor.agentPubKey
    this.#catchingUp.set(
      key,
      this.#catchUp(
        known,
        shard,
        holders.filter((a) => a !== me),
      )
        .catch((err: unknown) =>
          this.#init.logger.warn({ err, shard: key }, 'memory shard catch-up failed; retrying'),
        )
        .finally(() => this.#catchingUp.delete(key)),
    )
  }

  /**
   * A request for a shard placement gives this peer, which it has not made ready yet (its placement
   * check has not run since the collection appeared): a new shard is made ready now, so a collection
   * answers right after it is created; any other starts catching up, and answers once it has.
   */
  async #prepare(known: KnownCollection, shard: number): Promise<void> {
    if (this.#holdings.get(known.hash, shard)?.ready) return
    const holders = this.#placeAll(await this.#init.peers()).get(known.hash)?.[shard] ?? []
    if (!holders.includes(this.#init.conductor.agentPubKey)) return
    if (!(await this.#readyIfNew(known, shard))) this.#startCatchUp(known, shard, holders)
    // Announced (and the rest of placement checked) now rather than at the next interval.
    else void this.reconcile().catch(() => {})
  }

  /**
   * A shard with no snapshot that no other peer ever announced holding has nothing to catch up from:
   * every write it has had went to its holders, this one included. It is ready at once.
   */
  async #readyIfNew(known: KnownCollection, shard: number): Promise<boolean> {
    const [snapshot, announced] = await Promise.all([
      this.#init.conductor.callZome('memory_shards', 'get_latest_snapshot', {
        collection: known.hash,
        shard,
      }),
      this.#init.conductor.callZome('memory_shards', 'list_shard_holders', known.hash),
    ])
    const me = this.#init.conductor.agentPubKey
    if (snapshot !== null || announced.some((h) => h.entry.shard === shard && h.author !== me)) return false
    const held = this.#holdings.open(known, shard)
    if (!held.ready) {
      held.ready = true
      this.#init.logger.info({ collection: known.collection.name, shard }, 'memory shard ready (new)')
    }
    return true
  }

  /** Catch-up: the latest snapshot when empty, then the writes a ready holder has after this copy's newest. */
  async #catchUp(known: KnownCollection, shard: number, others: readonly string[]): Promise<void> {
    if (await this.#readyIfNew(known, shard)) return
    const held = this.#holdings.open(known, shard)
    let cursor = { updated_at: 0, id: '' }
    const newest = held.store.newest()
    if (newest === null) {
      const snapshot = await this.#init.conductor.callZome('memory_shards', 'get_latest_snapshot', {
        collection: known.hash,
        shard,
      })
      if (snapshot && this.#init.snapshots) {
        // Aborted when the service stops, so stopping never waits on a transfer.
        const bytes = await this.#init.snapshots.get(snapshot.entry.cid, this.#abort.signal)
        const writes = (decode(bytes) as Parameters<typeof fromWire>[0][]).map(fromWire)
        this.#holdings.apply(known, shard, writes)
        cursor = { updated_at: Math.max(0, snapshot.entry.taken_at - CLOCK_SLACK_MS), id: '' }
      }
    } else {
      cursor = { updated_at: Math.max(0, newest - CLOCK_SLACK_MS), id: '' }
    }
    let sourced = others.length === 0
    for (const agent of others) {
      try {
        for (;;) {
          const reply = await this.#ask(
            agent,
            { op: 'changes', collection: known.hash, shard, after: cursor, limit: CHANGES_PAGE },
            this.#abort.signal,
          )
          if (reply.op !== 'changes') break
          this.#holdings.apply(known, shard, reply.writes)
          const last = reply.writes.at(-1)
          if (last === undefined || reply.writes.length < CHANGES_PAGE) break
          cursor = { updated_at: last.updated_at, id: last.id }
        }
        sourced = true
        break
      } catch (err) {
        this.#init.logger.debug({ err, agent, shard }, 'memory catch-up: holder not ready, trying the next')
      }
    }
    // No ready holder anywhere (a new collection, or every replica new): there is nothing more to fetch.
    if (!sourced && !(await this.#anyReadyElsewhere(known, shard, others))) sourced = true
    if (!sourced) throw new ShardUnavailableError(shard, 'no ready holder answered the catch-up yet')
    held.ready = true
    this.#init.logger.info(
      { collection: known.collection.name, shard, docs: held.store.count() },
      'memory shard ready',
    )
  }

  /**
   * Starts comparing this copy of a shard with another holder's when the last comparison is older than
   * the repair interval, or at once when that holder just came back (it may have missed writes, or
   * this copy did while it was away).
   */
  #repairDue(known: KnownCollection, shard: number, other: string, returned: boolean): void {
    const key = `${known.hash}/${shard}/${other}`
    const interval = this.#init.repairIntervalMs ?? DEFAULT_REPAIR_MS
    if (this.#repairing.has(key) || (!returned && Date.now() - (this.#repairedAt.get(key) ?? 0) < interval))
      return
    this.#repairedAt.set(key, Date.now())
    this.#repairing.set(
      key,
      this.#repair(known, shard, other, this.#abort.signal)
        .catch((err: unknown) =>
          // Unreachable, or not ready there yet: the next round tries again.
          this.#init.logger.debug({ err, shard, other }, 'memory replica repair did not finish'),
        )
        .finally(() => this.#repairing.delete(key)),
    )
  }

  /**
   * Replica repair: walks the other holder's bucket digests down from the root, only under buckets
   * that differ from this copy's, and pulls (checked) the writes of the finest buckets that differ.
   * Last-writer-wins makes a pulled write that is older than this copy's a no-op.
   */
  async #repair(known: KnownCollection, shard: number, other: string, signal: AbortSignal): Promise<void> {
    const held = this.#holdings.get(known.hash, shard)
    if (!held?.ready) return
    const address = { collection: known.hash, shard }
    const pulled = await repairFrom(
      {
        mine: (range) => held.store.digests(range.level, range.from, range.to),
        theirs: async (range) => {
          const reply = await this.#ask(other, { op: 'digests', ...address, ...range }, signal)
          return reply.op === 'digests' ? reply.digests : []
        },
        pull: async ({ from, before }) => {
          let applied = 0
          let after = { updated_at: from, id: '' }
          for (;;) {
            const request: MemoryRequest = { op: 'changes', ...address, after, limit: CHANGES_PAGE, before }
            const page = await this.#ask(other, request, signal)
            if (page.op !== 'changes') return applied
            applied += this.#holdings.apply(known, shard, page.writes)
            const last = page.writes.at(-1)
            if (last === undefined || page.writes.length < CHANGES_PAGE) return applied
            after = { updated_at: last.updated_at, id: last.id }
          }
        },
      },
      Date.now() - (this.#init.repairSettleMs ?? DEFAULT_REPAIR_SETTLE_MS),
      signal,
    )
    if (pulled > 0)
      this.#init.logger.info(
        { collection: known.collection.name, shard, from: other, writes: pulled },
        'memory shard repaired from a replica',
      )
  }

  /** Whether some announced holder (other than those just asked) may still hold this shard's writes. */
  async #anyReadyElsewhere(
    known: KnownCollection,
    shard: number,
    asked: readonly string[],
  ): Promise<boolean> {
    const live = new Set((await this.#init.peers()).map((p) => p.agent))
    const announced = await this.#init.conductor.callZome('memory_shards', 'list_shard_holders', known.hash)
    const me = this.#init.conductor.agentPubKey
    const candidates = announced
      .filter(
        (h) => h.entry.shard === shard && h.author !== me && live.has(h.author) && !asked.includes(h.author),
      )
      .map((h) => h.author)
    return candidates.length > 0
  }

  async #maybeSnapshot(known: KnownCollection, shard: number): Promise<void> {
    const held = this.#holdings.get(known.hash, shard)
    const snapshots = this.#init.snapshots
    if (
      !held ||
      !snapshots ||
      held.unsnapshotted < (this.#init.snapshotAfterWrites ?? DEFAULT_SNAPSHOT_AFTER)
    )
      return
    const writes = held.store.changesAfter({ updated_at: 0, id: '' }, Number.MAX_SAFE_INTEGER)
    const takenAt = held.store.newest() ?? Date.now()
    held.unsnapshotted = 0
    const cid = await snapshots.put(encode(writes.map(toWire)))
    await this.#init.conductor.callZome('memory_shards', 'publish_snapshot', {
      collection: known.hash,
      shard,
      cid,
      doc_count: held.store.count(),
      taken_at: takenAt,
    })
    this.#init.logger.info(
      { collection: known.collection.name, shard, cid },
      'memory shard snapshot published',
    )
  }

  // ---- internals ----

  async #write(
    record: EntryRecord<Collection>,
    writes: readonly DocWrite[],
    options: WriteOptions,
  ): Promise<WriteResult> {
    const { shard_count } = record.entry
    const byShard = new Map<number, DocWrite[]>()
    for (const w of writes) {
      const shard = shardOf(w.id, shard_count)
      byShard.set(shard, [...(byShard.get(shard) ?? []), w])
    }
    const placement = await this.#placement(record)
    const wireBytes = record.entry.dimension * 4 + 512
    const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / wireBytes))
    let done = 0
    const shards = await Promise.all(
      [...byShard.entries()].map(async ([shard, shardWrites]) => {
        const holders = placement[shard] ?? []
        if (holders.length === 0)
          throw new ShardUnavailableError(shard, 'no live peer has memory room for it')
        let written = holders.length
        for (let start = 0; start < shardWrites.length; start += perChunk) {
          options.signal?.throwIfAborted()
          const chunk = shardWrites.slice(start, start + perChunk)
          const request: MemoryRequest = {
            op: 'apply',
            collection: record.action_hash,
            shard,
            writes: chunk.map(toWire),
          }
          const acks = await Promise.allSettled(
            holders.map((agent) => this.#ask(agent, request, options.signal)),
          )
          const failed = acks.filter((a) => a.status === 'rejected')
          for (const f of failed)
            this.#init.logger.warn({ err: f.reason, shard }, 'a memory holder did not take a write')
          written = Math.min(written, acks.length - failed.length)
          if (written === 0)
            throw new ShardUnavailableError(shard, String((failed[0] as PromiseRejectedResult).reason))
          done += chunk.length
          options.onProgress?.(done, writes.length)
        }
        return { shard, holders: holders.length, written }
      }),
    )
    return { written: writes.length, shards: shards.sort((a, b) => a.shard - b.shard) }
  }

  /**
   * Embeds with the collection's model. The model file's hash is kept with the collection here on the
   * first embedding, and a later one from another file (a model replaced under the same name) is
   * refused: every vector of a collection must come from the same model file.
   */
  async #embed(
    record: EntryRecord<Collection>,
    texts: string[],
    field: string,
    signal?: AbortSignal,
  ): Promise<number[][]> {
    const collection = record.entry
    const model = collection.embedding_model
    if (model === NO_MODEL || this.#init.embed === undefined) {
      throw new InvalidMemoryInputError(
        field,
        `collection "${collection.name}" has no embedding model: give vectors`,
      )
    }
    const vectors: number[][] = []
    const pinned = join(this.#init.dir, record.action_hash, 'embedding-model.json')
    for (let i = 0; i < texts.length; i += EMBED_BATCH) {
      const answer = await this.#init.embed(model, texts.slice(i, i + EMBED_BATCH), signal)
      const kept = await readFile(pinned, 'utf8').then(
        (text) => (JSON.parse(text) as { file_hash: string }).file_hash,
        () => null,
      )
      if (kept === null) {
        await mkdir(dirname(pinned), { recursive: true, mode: 0o700 })
        await writeFile(pinned, JSON.stringify({ model, file_hash: answer.file_hash }), { mode: 0o600 })
      } else if (kept !== answer.file_hash) {
        throw new EmbeddingModelChangedError(field, model, kept, answer.file_hash)
      }
      vectors.push(...answer.vectors)
    }
    return vectors
  }

  /** Asks a holder (this peer directly, others over the transport). */
  async #ask(
    agent: string,
    request: MemoryRequest,
    signal?: AbortSignal,
    timeoutMs?: number,
  ): Promise<MemoryReply> {
    if (agent === this.#init.conductor.agentPubKey) return this.#serve(request)
    return decodeReply(
      await this.#init.transport.request(agent, encodeRequest(request), { signal, timeoutMs }),
    )
  }

  async #answer(bytes: Uint8Array): Promise<Uint8Array> {
    return encodeReply(await this.#serve(decodeRequest(bytes)))
  }

  #serve(request: MemoryRequest): Promise<MemoryReply> {
    return this.#holdings.serve(
      request,
      (h) => this.#byHash(h),
      (known, shard) => this.#prepare(known, shard),
    )
  }

  async #byHash(hash: string): Promise<KnownCollection | null> {
    let record = this.#collections.find((c) => c.action_hash === hash)
    if (record === undefined) {
      await this.#refresh()
      record = this.#collections.find((c) => c.action_hash === hash)
    }
    const wait = this.#init.waitForRecord
    if (record === undefined && wait && (await wait(hash, COLLECTION_WAIT_MS).catch(() => false))) {
      await this.#refresh()
      record = this.#collections.find((c) => c.action_hash === hash)
    }
    return record ? { hash, collection: record.entry } : null
  }

  async #placement(record: EntryRecord<Collection>): Promise<string[][]> {
    return this.#placeAll(await this.#init.peers()).get(record.action_hash) ?? []
  }

  /** Every collection's placement (oldest first, so a newer one never moves an older one's shards). */
  #placeAll(peers: readonly MemoryPeer[], extra?: ShardDemand): Map<string, string[][]> {
    const demands: ShardDemand[] = this.#named()
      .sort((a, b) => a.timestamp - b.timestamp || (a.action_hash < b.action_hash ? -1 : 1))
      .map((c) => ({
        collection: c.action_hash,
        replication: c.entry.replication,
        shardBytes: this.#shardBytes.get(c.action_hash) ?? new Array(c.entry.shard_count).fill(0),
      }))
    return placeCollections(extra ? [...demands, extra] : demands, peers)
  }

  /** Each shard's size by its latest snapshot: what placement weighs against the peers' room. */
  async #refreshShardBytes(): Promise<void> {
    for (const c of this.#named()) {
      const sizes = await Promise.all(
        Array.from({ length: c.entry.shard_count }, async (_, shard) => {
          const latest = await this.#init.conductor.callZome('memory_shards', 'get_latest_snapshot', {
            collection: c.action_hash,
            shard,
          })
          return (latest?.entry.doc_count ?? 0) * docBytes(c.entry.dimension)
        }),
      )
      this.#shardBytes.set(c.action_hash, sizes)
    }
  }

  async #refresh(): Promise<void> {
    this.#collections = await this.#init.conductor.callZome('memory_shards', 'list_collections', null)
  }

  /** The first collection of each name (a later one of the same name, written concurrently, is ignored). */
  #named(): EntryRecord<Collection>[] {
    const byName = new Map<string, EntryRecord<Collection>>()
    for (const c of this.#collections) if (!byName.has(c.entry.name)) byName.set(c.entry.name, c)
    return [...byName.values()]
  }

  async #find(name: string, refresh: boolean): Promise<EntryRecord<Collection> | null> {
    if (refresh) await this.#refresh()
    return this.#named().find((c) => c.entry.name === name) ?? null
  }

  async #get(name: string): Promise<EntryRecord<Collection>> {
    const found = (await this.#find(name, false)) ?? (await this.#find(name, true))
    if (found === null) throw new UnknownCollectionError(name)
    return found
  }
}

/** The `embedding_model` of a collection that takes vectors only. */
export const NO_MODEL = 'none'

function view(record: EntryRecord<Collection>): CollectionView {
  return {
    name: record.entry.name,
    action_hash: record.action_hash,
    author: record.author,
    created_at: record.timestamp,
    collection: record.entry,
  }
}
