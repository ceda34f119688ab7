/**
 * A simulated peer's part of the record when the mesh shards it (issue 57, design d57): it writes its
 * cover pair every record slot on a grid every peer shares, and a runner its answer pair for each second
 * in which it answered (sim-ops.ts, real signed ops); each op goes to its holders, the R members closest
 * to its basis (its action hash, as a get by action hash plans) and the R closest to its author (the
 * author's activity), op-holders.ts. A holder checks what it is pushed as a fetched op is checked
 * (fetched-op-check.ts: hash, signature, shape, chain where the previous action is held here, entry)
 * and stores it in memory (held-ops.ts); what it is no holder of is refused. When the members change,
 * each op's closest holder left pushes it to its new holders (op-handoff.ts). It serves `record/1.0.0`
 * with the daemon's own server (record-serve.ts), and gets an op from its holders with the daemon's own
 * get (holder-get.ts). The rules' wasm is not run: the stand-in cell takes every entry (as the
 * stand-in conductor stands in for the zomes), so "validated" is the system checks. A push is the
 * daemon's (op-push.ts: `record-push/1.0.0`, OpPusher's retries, pushHandler's ack). A holder it has no
 * connection to is dialled at the addresses membership gives (`Member.addrs`), put in its peer store
 * once: no directory walk, which in one process was most of what carrying the record cost.
 */
import type { PeerId } from '@libp2p/interface'
import type { Cell } from '../../host/conductor/embedded/cell.ts'
import { checkFetchedOp } from '../../host/conductor/embedded/replication/fetched-op-check.ts'
import { HolderGet, type HolderGetInit } from '../../host/conductor/embedded/replication/holder-get.ts'
import { emptyResult, type IngestResult } from '../../host/conductor/embedded/replication/ingest-result.ts'
import { pushesOf } from '../../host/conductor/embedded/replication/op-handoff.ts'
import {
  MAX_PUSHED_OPS,
  OpPusher,
  pushHandler,
  RECORD_PUSH_PROTOCOL,
} from '../../host/conductor/embedded/replication/op-push.ts'
import { type WireOp, wireOpOf } from '../../host/conductor/embedded/replication/op-wire.ts'
import { RECORD_GET_PROTOCOL } from '../../host/conductor/embedded/replication/record-get-wire.ts'
import { recordServer } from '../../host/conductor/embedded/replication/record-serve.ts'
import { DEFAULT_RECORD_HOLDERS } from '../../host/config/network-schema.ts'
import { encodeHashB64, hashContent } from '../../host/identity/hash.ts'
import type { AgentKey } from '../../host/identity/keystore.ts'
import { agentOfPeerB64, peerIdOfAgent } from '../../host/identity/peer-agent.ts'
import { silentLogger } from '../../host/log/logger.ts'
import type { RequestResponse } from '../../host/net/request-response.ts'
import type { StoredAction } from '../../host/storage/chain-store.ts'
import { HeldOps } from './held-ops.ts'
import { HolderCache, type Placement } from './holder-cache.ts'
import { heldBytes, isCover, SIM_DNA_HASH, SimChain, type WrittenOp } from './sim-ops.ts'

/** A runner's answer window: a second of the grid (docs/record.md). */
const ANSWER_WINDOW_SIM_MS = 1_000
/**
 * A peer's pushes of a slot's ops wait a random share of this part of the slot: every peer signs at the
 * same boundary, and in one process that is every peer's ~2R dials at once, which a machine of its own
 * never sees (its own 2R dials are all it makes); spread, the row measures the protocol, not that storm.
 */
export const PUSH_SPREAD = 0.25

/** What a peer's record cost it so far (counts since it started). */
export interface RecordCounters {
  /** Ops of others it was pushed that passed the checks, and of those the ones it had not held. */
  validated: number
  stored: number
  /** Bytes of the ops it stored (held-ops: hash, action, signature, public entry), its own included. */
  storedBytes: number
  /** Of those, cover's (what a longer slot makes less of). */
  coverBytes: number
  /** Ops it signed. */
  written: number
  /** Ops it was pushed and did not take: a check failed, or it holds no neighbourhood of theirs. */
  refused: number
  /** Pushes that no try delivered. */
  pushesFailed: number
}

/** A member as membership tells it: its agent key and where it listens. */
export interface Member {
  agent: string
  addrs: string[]
}

/** The members every peer of one process counts (the controller's live peers), and who listens. */
export class MeshMembers {
  #agents: readonly string[] = []
  #addrs = new Map<string, string[]>()
  readonly #records = new Set<SimRecord>()

  get agents(): readonly string[] {
    return this.#agents
  }

  /** Where `agent` listens, as membership says (none for one no longer a member). */
  addrs(agent: string): string[] {
    return this.#addrs.get(agent) ?? []
  }

  /** The members now: each peer hands its ops on to their new holders. */
  set(members: readonly Member[]): void {
    const before = this.#agents
    this.#addrs = new Map(members.map((m) => [m.agent, m.addrs]))
    if (before.length === members.length && before.every((a) => this.#addrs.has(a))) return
    this.#agents = members.map((m) => m.agent)
    for (const record of this.#records) record.membersChanged(before, this.#agents)
  }

  listen(record: SimRecord): () => void {
    this.#records.add(record)
    return () => this.#records.delete(record)
  }
}

export interface SimRecordInit {
  key: AgentKey
  rpc: Pick<RequestResponse, 'handle' | 'request'>
  members: MeshMembers
  speedup: number
  /** The record slot, simulated (the network file's `record.served_slot_ms`). */
  slotSimMs: number
  /** An open connection to it now (a get asks those first). */
  connected: (peer: PeerId) => boolean
  /** Puts a member's addresses in this peer's peer store (a dial then needs no directory walk). */
  know: (peer: PeerId, addrs: string[]) => Promise<void>
  /** How long one holder has to answer a get or a push (real ms). */
  timeoutMs: number
  holders?: number
}

/** The stand-in cell: the DNA's hash, and rules that take every entry (no wasm in the simulation). */
const simCell = { dnaHash: SIM_DNA_HASH, checkForeignAction: () => undefined } as unknown as Cell

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export class SimRecord {
  readonly counters: RecordCounters = {
    validated: 0,
    stored: 0,
    storedBytes: 0,
    coverBytes: 0,
    written: 0,
    refused: 0,
    pushesFailed: 0,
  }
  readonly held = new HeldOps()
  readonly #cache: HolderCache<StoredAction>
  readonly #init: SimRecordInit
  readonly #chain: SimChain
  readonly #self: string
  readonly #r: number
  /** The slot's timer and the answer window's: each replaced as it fires. */
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>()
  readonly #get: HolderGet
  readonly #pusher: OpPusher
  readonly #rpc: SimRecordInit['rpc']
  /** Members whose addresses this peer's store was given (their addresses do not change). */
  readonly #known = new Set<string>()
  readonly #stopping = new AbortController()
  #answered = 0
  #lastBatch: string | null = null
  #stopped = false
  #unlisten: () => void = () => {}

  constructor(init: SimRecordInit) {
    this.#init = init
    this.#chain = new SimChain(init.key)
    this.#self = this.#chain.author
    this.#r = init.holders ?? DEFAULT_RECORD_HOLDERS
    this.#cache = new HolderCache(this.#r)
    // Every request to a member (a push, a get) dials it, when unconnected, where membership says.
    this.#rpc = {
      handle: (protocol, handler, options) => init.rpc.handle(protocol, handler, options),
      request: async (peer, protocol, bytes, options) => {
        await this.#reach(peer)
        return init.rpc.request(peer, protocol, bytes, options)
      },
    }
    this.#pusher = new OpPusher({
      rpc: this.#rpc,
      logger: silentLogger(),
      signal: this.#stopping.signal,
      sleep: (ms) => sleep(ms / init.speedup),
      timeoutMs: init.timeoutMs,
    })
    // The daemon's get, over a conductor of this peer's held ops and the stand-in cell.
    const conductor = { agentPubKey: this.#self, store: this.held, cell: () => simCell }
    this.#get = new HolderGet({
      rpc: this.#rpc,
      conductor: conductor as unknown as HolderGetInit['conductor'],
      replication: { warrantAuthor: () => {}, isWarranted: () => false, isRevoked: () => false },
      members: () => init.members.agents,
      holders: this.#r,
      connected: (agent) => init.connected(peerIdOfAgent(agent)),
      timeoutMs: init.timeoutMs,
    })
  }

  async start(): Promise<void> {
    const { members, speedup, slotSimMs } = this.#init
    const rpc = this.#rpc
    await rpc.handle(RECORD_GET_PROTOCOL, recordServer({ store: this.held, barred: () => false }))
    await rpc.handle(
      RECORD_PUSH_PROTOCOL,
      pushHandler((batch) => this.#take(batch.ops)),
    )
    this.#unlisten = members.listen(this)
    // Slots end on a grid every peer shares: the next boundary, then every slot.
    const slotMs = slotSimMs / speedup
    this.#every('slot', slotMs, slotMs - (Date.now() % slotMs), () => {
      const closedAt = Date.now()
      this.#write(this.#chain.cover(closedAt - slotSimMs, closedAt), PUSH_SPREAD * slotMs)
    })
    const answerMs = ANSWER_WINDOW_SIM_MS / speedup
    this.#every('answers', answerMs, answerMs - (Date.now() % answerMs), () => {
      if (this.#answered === 0) return
      const count = this.#answered
      this.#answered = 0
      const closedAt = Date.now()
      const answers = this.#chain.answers(count, members.agents, closedAt - ANSWER_WINDOW_SIM_MS, closedAt)
      this.#write(answers, PUSH_SPREAD * answerMs)
    })
  }

  stop(): void {
    this.#stopped = true
    this.#stopping.abort()
    this.#unlisten()
    for (const timer of this.#timers.values()) clearTimeout(timer)
  }

  /** A request this runner answered: signed in its window's pair. */
  answered(): void {
    this.#answered++
  }

  /** The action hash of its latest public batch whose pushes have ended, or null before the first's did. */
  get lastBatch(): string | null {
    return this.#lastBatch
  }

  /** Gets `actionHash` from its holders (holder-get.ts): from whom, and in how many real ms. */
  async get(actionHash: string): Promise<{ from: string; ms: number }> {
    const started = performance.now()
    const got = await this.#get.get('resource_mesh', actionHash)
    return { from: got.from, ms: performance.now() - started }
  }

  /** Where the op lives: its hash's and its author's holder groups over the members now. */
  #plan(row: Pick<StoredAction, 'hash' | 'author'>): Placement {
    return this.#cache.plan([row.hash, row.author], this.#init.members.agents)
  }

  /**
   * Stores its own ops and, within `spreadMs` (real), pushes each of their holders its share, placed over
   * the members then: a slow clock's spread (15 s simulated at 0.01x) outlasts joins (a mesh starting),
   * a holder takes only what its own view places on it, and the hand-off moves only ops already held.
   */
  #write(ops: WrittenOp[], spreadMs: number): void {
    let batch: string | null = null
    for (const op of ops) {
      this.held.put(op.row, op.entry)
      this.#cache.keep(op.row, this.#plan(op.row))
      this.counters.written++
      // Its author holds its private entry too (on its own chain).
      const bytes = heldBytes(op.wire, op.row.hash) + (op.wire.entry === null ? op.entry.bytes.length : 0)
      this.counters.storedBytes += bytes
      if (op.cover) this.counters.coverBytes += bytes
      if (op.batch) batch = encodeHashB64(op.row.hash)
    }
    void sleep(Math.random() * spreadMs).then(async () => {
      const to = new Map<string, WireOp[]>()
      for (const op of ops)
        for (const holder of new Set(this.#plan(op.row).groups.flat()))
          if (holder !== this.#self) to.set(holder, [...(to.get(holder) ?? []), op.wire])
      await Promise.all([...to].map(([holder, share]) => this.#push(holder, share)))
      this.#lastBatch = batch ?? this.#lastBatch
    })
  }

  /** Pushes `ops` to `holder` as the daemon does (op-push.ts), at most MAX_PUSHED_OPS a push. */
  async #push(holder: string, ops: WireOp[]): Promise<void> {
    for (let i = 0; i < ops.length && !this.#stopped; i += MAX_PUSHED_OPS) {
      const batch = { dnaHash: SIM_DNA_HASH, ops: ops.slice(i, i + MAX_PUSHED_OPS) }
      if (!(await this.#pusher.push(holder, batch)) && !this.#stopped) this.counters.pushesFailed++
    }
  }

  /** An unconnected member's addresses into the peer store, from membership, the first time it is asked. */
  async #reach(peer: PeerId): Promise<void> {
    const key = peer.toString()
    if (this.#known.has(key) || this.#init.connected(peer)) return
    const agent = agentOfPeerB64(peer)
    const addrs = agent === null ? [] : this.#init.members.addrs(agent)
    if (addrs.length === 0) return
    this.#known.add(key)
    await this.#init.know(peer, addrs).catch(() => this.#known.delete(key))
  }

  /** Ops pushed here: each checked as a fetched op, kept where this peer is one of its holders. */
  #take(ops: WireOp[]): IngestResult {
    const context = { cell: simCell, store: this.held, barred: () => false }
    const result = emptyResult()
    for (const op of ops) {
      const hash = hashContent(op.action, 'action')
      const verdict = checkFetchedOp(context, op, hash)
      const placement = verdict.kind === 'valid' ? this.#plan(verdict.stored) : null
      if (verdict.kind !== 'valid' || !placement?.groups.flat().includes(this.#self)) {
        this.counters.refused++
        result.counts[verdict.kind === 'valid' ? 'ignored' : 'rejected']++
        continue
      }
      this.counters.validated++
      if (this.held.has(hash)) {
        result.counts.duplicate++
        continue
      }
      result.counts.stored++
      this.held.put(verdict.stored, verdict.entry)
      this.#cache.keep(verdict.stored, placement)
      this.counters.stored++
      const bytes = heldBytes(op, hash)
      this.counters.storedBytes += bytes
      if (isCover(verdict.action)) this.counters.coverBytes += bytes
    }
    return result
  }

  /** Churn: for each op held here, what this peer pushes to the holders new since `before`. */
  membersChanged(before: readonly string[], after: readonly string[]): void {
    if (this.#stopped || before.length === 0) return
    const to = new Map<string, WireOp[]>()
    for (const row of this.#cache.changed(before, after)) {
      const targets = new Set([
        ...pushesOf(this.#self, row.hash, before, after, this.#r),
        ...pushesOf(this.#self, row.author, before, after, this.#r),
      ])
      if (targets.size === 0) continue
      const wire = wireOpOf(row, row.entryHash && this.held.getEntry(row.entryHash))
      for (const holder of targets) to.set(holder, [...(to.get(holder) ?? []), wire])
    }
    for (const [holder, batch] of to) void this.#push(holder, batch)
  }

  #every(name: string, periodMs: number, firstMs: number, tick: () => void): void {
    const next = (ms: number) => {
      this.#timers.set(
        name,
        setTimeout(() => {
          if (this.#stopped) return
          tick()
          next(periodMs)
        }, ms),
      )
    }
    next(firstMs)
  }
}
