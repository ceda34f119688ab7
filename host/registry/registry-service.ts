/**
 * The registry service: advertises this peer's capability at start and whenever it changes,
 * broadcasts a heartbeat (load) as an ephemeral signal, never a chain entry (at once when what routing
 * reads changed, else at an idle pace that slows as the mesh grows: ./heartbeat-pace.ts), and keeps
 * the peer view from the heartbeats it hears. Capability entries are read again when one arrives.
 * Where the backend has a model directory and topics (design 4e), it advertises each model this peer
 * serves there, and sends routing news on the topics of the models it has loaded, listening on those
 * and on the topics of the models it used lately (./model-interest.ts).
 */

import {
  type EntryRecord,
  type Heartbeat,
  HeartbeatSchema,
  type NodeCapability,
  type RecordRef,
} from '../../zomes-bindings/index.ts'
import type { ConductorPort, Signal } from '../interface/conductor-port.ts'
import type { PeerEntry } from '../interface/live-peers.ts'
import { nowMicros } from '../runtime/clock.ts'
import { readAtStart } from '../runtime/read-at-start.ts'
import { capabilityChanged } from './capability-changed.ts'
import { FarCapabilities } from './far-capabilities.ts'
import { HeardAddresses } from './heard-addresses.ts'
import { beatDue, idlePaceMs, newsToAll, type PaceState } from './heartbeat-pace.ts'
import { HELD_MAX, othersOnline } from './held-heartbeats.ts'
import { ModelInterest } from './model-interest.ts'
import { PeerView } from './peer-view.ts'
import type { RegistryInit } from './registry-init.ts'
import type { RegistryPort } from './registry-port.ts'

export type { RegistryInit } from './registry-init.ts'

/** A heartbeat's load: the addresses and the capability's version in it are read apart, so bad ones leave the load heard. */
const LoadSchema = HeartbeatSchema.omit({ addrs: true, cap: true })
const CapSchema = HeartbeatSchema.shape.cap

/** Thrown when the registry is asked for its state before `start` finished. */
export class RegistryNotStartedError extends Error {
  static override readonly name = 'RegistryNotStartedError'
  constructor() {
    super('the registry has not started yet')
    this.name = 'RegistryNotStartedError'
  }
}

/** How often the capability entries are read again when no op tells of a change. */
const NODES_REUSE_MS = 1000
/** With ops telling of changes, how often they are read again all the same (a missed wake-up). */
const NODES_REREAD_MS = 30_000

export class RegistryService implements RegistryPort {
  #advertised: NodeCapability | null = null
  #lastHeartbeat: Heartbeat | null = null
  readonly #view: PeerView
  readonly #timers: NodeJS.Timeout[] = []
  #unsubscribe: (() => void) | null = null
  /** The capability entries read last, reused briefly: every routed request asks who has what. */
  /** The capability entries as last read whole, and the read under way (one at a time). */
  #nodes: EntryRecord<NodeCapability>[] | null = null
  #reading: Promise<EntryRecord<NodeCapability>[]> | null = null
  #resampling = false
  #resampleAgain = false
  readonly #pace: PaceState = { last: null }
  /** The pace of the beats on the model topics (news at once, else the idle pace). */
  readonly #topicPace: PaceState = { last: null }
  readonly #interest = new ModelInterest()
  /** The models advertised in the directory now. */
  #inDirectory = new Set<string>()
  #unstored: (() => void) | null = null
  /** When this start began: members not heard from since are awaited until they would be offline. */
  #startedAt = Date.now()
  readonly #addrs: HeardAddresses
  /** This peer's capability as it stands (its latest action hash), told in heartbeats. */
  #cap: string | null = null
  readonly #far: FarCapabilities
  /** Its capability not on record yet: the start's write is tried again, and resamples wait for it. */
  #unwritten = false
  /** Aborted at stop: ends the start's write still being tried again. */
  #running = new AbortController()

  readonly #init: RegistryInit

  constructor(init: RegistryInit) {
    this.#init = init
    this.#view = new PeerView(init.conductor.agentPubKey, init.heartbeat)
    this.#addrs = new HeardAddresses(init.addresses ?? null, init.logger)
    this.#far = new FarCapabilities((agent) =>
      init.conductor.callZome('agent_registry', 'get_capability', agent),
    )
    init.budget?.claim('split shares', () =>
      this.#view.heldForSplits(Date.now()).reduce((sum, held) => sum + held.bytes, 0),
    )
  }

  get capability(): NodeCapability {
    if (!this.#advertised) throw new RegistryNotStartedError()
    return this.#advertised
  }

  async start(): Promise<void> {
    this.#startedAt = Date.now()
    this.#unsubscribe = this.#init.conductor.onSignal((signal) => this.#onSignal(signal))
    this.#running = new AbortController()
    const capability = await this.#init.describe()
    this.#advertised = capability
    // Sharded, the write reads this peer's capability link from its holders: a busy mesh may not answer
    // in time, which must not stop the peer from starting (written in the background, no `cap` told until).
    this.#unwritten = true
    await readAtStart(
      () => this.#advertise(capability),
      () => {
        this.#unwritten = false
      },
      { what: "this peer's capability", signal: this.#running.signal, logger: this.#init.logger },
    )
    this.#advertiseModels(capability)
    // Who the members are, known before anything asks what they all read (awaitedOthers).
    await this.#readAllNodes()
    // Read when one arrives (and on a timer), not by the requests that need them: a zome call's work
    // would run inside theirs.
    const stored = this.#init.onRecordsStored
    this.#unstored = stored?.('agent_registry', () => void this.#readAllNodes().catch(() => {})) ?? null
    this.#every(stored ? NODES_REREAD_MS : NODES_REUSE_MS, () => this.#readAllNodes())
    if (!this.#unwritten) this.#init.logger.info({ name: capability.name }, 'capability advertised')
    // Heartbeats are best effort: a failed signal must not stop the peer from starting.
    await this.#beat().catch((err: unknown) => this.#init.logger.warn({ err }, 'first heartbeat failed'))
    // Looked at every interval; sent when due (./heartbeat-pace.ts).
    this.#every(this.#init.heartbeat.interval_ms, () => this.#beat())
    this.#every(this.#init.resampleIntervalMs, () => this.#resample())
  }

  async stop(): Promise<void> {
    this.#running.abort()
    for (const timer of this.#timers.splice(0)) clearInterval(timer)
    this.#unsubscribe?.()
    this.#unsubscribe = null
    this.#unstored?.()
    this.#unstored = null
    for (const model of this.#inDirectory) this.#init.directory?.withdraw(model)
    this.#inDirectory = new Set()
  }

  /** A request for `model` was sent from here: its runners' load news is heard for a while. */
  using(model: string): void {
    const topics = this.#init.conductor.topics
    this.#interest.use(model, Date.now())
    if (topics && !this.#interest.joined().includes(model)) this.#joinTopics(topics)
  }

  /** This peer's own capability and latest heartbeat (what it answers a requester asking its load). */
  own(): { capability: NodeCapability; heartbeat: Heartbeat | null } {
    return { capability: this.capability, heartbeat: this.#lastHeartbeat }
  }

  hearsAll(): boolean {
    return newsToAll(this.#init.conductor.topics !== undefined, this.#othersOnline(Date.now()))
  }

  /**
   * Other peers online, as the pace and the news to all count them: those heard, or past what this
   * peer holds of the mesh's heartbeats, the other members on record (./held-heartbeats.ts).
   */
  #othersOnline(now: number): number {
    const heard = this.#view.onlineOthers(now)
    const heardAll = this.#view.heardAll(this.#startedAt, now)
    // The record is read only where it may count: a team's mesh checks its members here in its first minute only.
    return othersOnline(heard, heard < HELD_MAX && heardAll ? 0 : this.#otherMembers(), heardAll)
  }

  /** The other members on record, not revoked. */
  #otherMembers(): number {
    const sharding = this.#shardedNow()
    if (sharding)
      return sharding.members().filter((agent) => agent !== this.#init.conductor.agentPubKey).length
    const members = new Set((this.#nodes ?? []).map((record) => record.author))
    members.delete(this.#init.conductor.agentPubKey)
    return [...members].filter(this.#init.isMember).length
  }

  /** The directory holds what this peer serves: every model it has a file of. */
  #advertiseModels(capability: NodeCapability): void {
    const directory = this.#init.directory
    if (!directory) return
    const serves = new Set(capability.inference.models.map((model) => model.name))
    for (const model of serves) if (!this.#inDirectory.has(model)) directory.advertise(model)
    for (const model of this.#inDirectory) if (!serves.has(model)) directory.withdraw(model)
    this.#inDirectory = serves
  }

  /** The models loaded here, as last advertised. */
  #loaded(): string[] {
    return (this.#advertised?.inference.models ?? []).filter((m) => m.loaded).map((m) => m.name)
  }

  #joinTopics(topics: NonNullable<ConductorPort['topics']>): void {
    const { join, leave } = this.#interest.next(this.#loaded(), Date.now())
    for (const model of join) topics.join(model)
    for (const model of leave) topics.leave(model)
  }

  /** Re-measures now and advertises again if something changed (e.g. a model was loaded). */
  refresh(): Promise<void> {
    return this.#resample()
  }

  /** The other members a new form waits for (PeerView.awaitedOthers): the mesh's versions ask it. */
  awaitedOthers(now = Date.now()): string[] {
    // Membership where the backend has it, sharded or not: whether records are sharded asks the mesh's
    // versions, which ask this (a loop that overflowed the stack on a joiner past R members).
    const known = this.#init.sharding?.members() ?? (this.#nodes ?? []).map((record) => record.author)
    // A revoked or warranted member's capability entry stays in the store; it is awaited no more.
    return this.#view.awaitedOthers(known, this.#startedAt, now).filter(this.#init.isMember)
  }

  async capabilityOf(agent: string): Promise<{ author: string; entry: NodeCapability } | null> {
    if (agent === this.#init.conductor.agentPubKey) return { author: agent, entry: this.capability }
    return this.#far.get(agent)
  }

  /** Every peer known here with its status; self first. */
  async peers(now = Date.now()): Promise<PeerEntry[]> {
    // Liveness and load come from heartbeats, fresh at every call; capabilities change rarely.
    const self = { capability: this.capability, load: this.#lastHeartbeat }
    const sharding = this.#shardedNow()
    if (sharding) return this.#view.list(this.#far.records(), self, now, sharding.members())
    return this.#view.list(this.#nodes ?? (await this.#readNodes()), self, now)
  }

  /** The sharding, where records are sharded now; else null. */
  #shardedNow(): { members(): readonly string[] } | null {
    const sharding = this.#init.sharding
    return sharding?.now() ? sharding : null
  }

  /** Every member's capability, where that is a local read (records not sharded). */
  async #readAllNodes(): Promise<void> {
    if (this.#shardedNow() === null) await this.#readNodes()
  }

  #readNodes(): Promise<EntryRecord<NodeCapability>[]> {
    this.#reading ??= this.#init.conductor
      .callZome('agent_registry', 'list_nodes', null)
      .then((nodes) => {
        this.#nodes = nodes
        // Kept as read, for when the mesh grows past sharding (then nothing reads them all).
        for (const record of nodes) this.#far.keep(record.author, record, Date.now())
        return nodes
      })
      .finally(() => {
        this.#reading = null
      })
    return this.#reading
  }

  /** Writes `capability` if it changed; its latest action hash is told in heartbeats from now on. */
  async #advertise(capability: NodeCapability): Promise<void> {
    const ref = await this.#init.conductor.callZome('agent_registry', 'advertise_capability', capability)
    // The simulation's stand-in conductor answers none.
    this.#cap = (ref as RecordRef | null)?.action_hash ?? null
  }

  #every(ms: number, task: () => Promise<void>): void {
    const timer = setInterval(() => {
      task().catch((err: unknown) => this.#init.logger.warn({ err }, 'registry task failed'))
    }, ms)
    // The API server keeps the process alive; registry timers alone should not.
    timer.unref()
    this.#timers.push(timer)
  }

  async #beat(): Promise<void> {
    const load = await this.#init.loadSampler.sample()
    const slots = this.#init.freeSlots?.() ?? null
    const splits = this.#init.splits?.() ?? []
    const held = this.#view.heldForSplits(Date.now())
    const lenient = this.#init.readersLenient?.() ?? true
    const addrs = lenient ? (this.#init.addresses?.own() ?? []) : []
    const heartbeat: Heartbeat = {
      ...load,
      queue_depth: this.#init.queueDepth(),
      ...(slots === null ? {} : { slots_free: slots }),
      ...(this.#init.budget ? { model_free_bytes: Math.floor(this.#init.budget.free()) } : {}),
      ...(this.#init.evictableModelBytes
        ? { model_evictable_bytes: Math.floor(this.#init.evictableModelBytes()) }
        : {}),
      ...(splits.length > 0 ? { splits } : {}),
      ...(held.length > 0 ? { split_held: held } : {}),
      ...(addrs.length > 0 ? { addrs } : {}),
      ...(lenient && this.#cap !== null ? { cap: this.#cap } : {}),
      timestamp: nowMicros(),
    }
    this.#lastHeartbeat = heartbeat
    const now = Date.now()
    const { interval_ms } = this.#init.heartbeat
    const others = this.#othersOnline(now)
    const pace = idlePaceMs(interval_ms, others)
    const sent = pace > interval_ms ? { ...heartbeat, every_ms: pace } : heartbeat
    const topics = this.#init.conductor.topics
    // A small mesh hears all its news mesh-wide, as before topics; a big one on the models' topics.
    const toAll = newsToAll(topics !== undefined, others)
    if (topics) {
      this.#joinTopics(topics)
      const serving = this.#loaded()
      if (!toAll && serving.length > 0 && beatDue(this.#topicPace, heartbeat, now, interval_ms, pace)) {
        this.#topicPace.last = { heartbeat: sent, at: now }
        await Promise.all(serving.map((model) => topics.publish('agent_registry', model, sent)))
      }
    }
    if (!beatDue(this.#pace, heartbeat, now, interval_ms, pace, toAll)) return
    this.#pace.last = { heartbeat: sent, at: now }
    await this.#init.conductor.broadcastSignal('agent_registry', sent)
  }

  async #resample(): Promise<void> {
    // The start's write, tried again, writes what it described; a change since is found on the tick after.
    if (this.#unwritten) return
    // A slow scan (hashing a new multi-GiB model) must not overlap the next tick; a request made
    // meanwhile runs once more after it, since that scan may predate what the request reports.
    if (this.#resampling) {
      this.#resampleAgain = true
      return
    }
    this.#resampling = true
    try {
      do {
        this.#resampleAgain = false
        const fresh = await this.#init.describe()
        if (this.#advertised && !capabilityChanged(this.#advertised, fresh)) continue
        await this.#advertise(fresh)
        this.#advertised = fresh
        this.#advertiseModels(fresh)
        this.#init.logger.info('capability changed; advertised again')
      } while (this.#resampleAgain)
    } finally {
      this.#resampling = false
    }
  }

  #onSignal(signal: Signal): void {
    if (signal.dna !== 'agent_registry' || signal.from === this.#init.conductor.agentPubKey) return
    const parsed = LoadSchema.safeParse(signal.payload)
    if (!parsed.success) {
      this.#init.logger.debug(
        { from: signal.from },
        'ignored an agent_registry signal that is not a heartbeat',
      )
      return
    }
    if (!this.#init.isMember(signal.from)) {
      this.#init.logger.debug({ from: signal.from }, 'ignored a heartbeat from an agent that is not a member')
      return
    }
    const payload = signal.payload as { addrs?: unknown; cap?: unknown }
    this.#addrs.heard(signal.from, payload.addrs)
    if (this.#shardedNow()) this.#far.heard(signal.from, CapSchema.safeParse(payload.cap).data)
    // News on a model's topic is from a runner of a model this peer serves or uses: held first.
    this.#view.recordHeartbeat(signal.from, parsed.data, Date.now(), signal.topic !== undefined)
  }
}
