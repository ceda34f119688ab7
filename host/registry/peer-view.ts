/**
 * Who is in the mesh as this peer sees it: the capability entries (`list_nodes`) joined with the
 * heartbeats received as signals, of which it holds a bounded number (./held-heartbeats.ts). Liveness
 * uses the time a heartbeat *arrived* on our clock, not the sender's timestamp, so clock skew between
 * machines cannot make a peer look alive or dead.
 */
import type { EntryRecord, Heartbeat, NodeCapability, SplitHeld } from '../../zomes-bindings/index.ts'
import type { PeerEntry, PeerStatus } from '../interface/live-peers.ts'
import { HELD_MAX, makeRoom } from './held-heartbeats.ts'
import { type HeartbeatConfig, peerStatus } from './peer-status.ts'

interface HeardHeartbeat {
  heartbeat: Heartbeat
  receivedAt: number
  /** When a heartbeat this peer wants from it arrived last (held-heartbeats.ts); null: never. */
  wantedAt: number | null
}

export class PeerView {
  readonly #heard = new Map<string, HeardHeartbeat>()

  readonly #selfAgent: string
  readonly #config: HeartbeatConfig
  readonly #max: number

  constructor(selfAgent: string, config: HeartbeatConfig, max = HELD_MAX) {
    this.#selfAgent = selfAgent
    this.#config = config
    this.#max = max
  }

  /**
   * A heartbeat heard; `wanted`: routing news on a model's topic this peer listens on. Held, unless
   * the view is full of ones it keeps (held-heartbeats.ts).
   */
  recordHeartbeat(agent: string, heartbeat: Heartbeat, receivedAt: number, wanted = false): void {
    const held = this.#heard.get(agent)
    const wants = wanted || this.#namesSelf(heartbeat)
    if (held === undefined) {
      const room = makeRoom(this.#slots(receivedAt), wants, this.#max)
      if (!room.take) return
      if (room.drop !== null) this.#heard.delete(room.drop)
    }
    this.#heard.set(agent, { heartbeat, receivedAt, wantedAt: wants ? receivedAt : (held?.wantedAt ?? null) })
  }

  /** A head whose split gives this peer a share: its heartbeat says what this peer holds for it. */
  #namesSelf(heartbeat: Heartbeat): boolean {
    return (heartbeat.splits ?? []).some((split) => split.peers.some((p) => p.agent === this.#selfAgent))
  }

  #slots(now: number) {
    return [...this.#heard].map(([agent, heard]) => ({
      agent,
      receivedAt: heard.receivedAt,
      offline: this.#statusOf(heard, now) === 'offline',
      wanted:
        heard.wantedAt !== null &&
        this.#statusOf({ heartbeat: heard.heartbeat, receivedAt: heard.wantedAt }, now) !== 'offline',
    }))
  }

  /**
   * What this peer holds for splits other peers head, as their heartbeats say (offline heads' splits
   * are over): a split's share lives in the RPC worker, which the model manager cannot unload.
   */
  heldForSplits(now: number): SplitHeld[] {
    const held: SplitHeld[] = []
    for (const [head, heard] of this.#heard) {
      if (head === this.#selfAgent || this.#statusOf(heard, now) === 'offline') continue
      for (const split of heard.heartbeat.splits ?? [])
        for (const share of split.peers)
          if (share.agent === this.#selfAgent) held.push({ head, model: split.model, bytes: share.bytes })
    }
    return held
  }

  /** Other peers heard from lately (not offline): how many heartbeats each heartbeat of ours costs. */
  onlineOthers(now: number): number {
    return this.liveOthers(now).length
  }

  /** The agents of other peers heard from lately (online or stale): the members a new form waits for. */
  liveOthers(now: number): string[] {
    return [...this.#heard]
      .filter(([agent, heard]) => agent !== this.#selfAgent && this.#statusOf(heard, now) !== 'offline')
      .map(([agent]) => agent)
  }

  /**
   * Whether a peer that started listening at `startedAt` has heard every peer online by now: as long as
   * a peer silent since then would count as offline, at the slowest pace a heartbeat held here states
   * (a big mesh's idle beat comes minutes apart).
   */
  heardAll(startedAt: number, now: number): boolean {
    const { interval_ms, offline_after_ms } = this.#config
    let slowest = interval_ms
    for (const heard of this.#heard.values()) slowest = Math.max(slowest, heard.heartbeat.every_ms ?? 0)
    return now - startedAt >= offline_after_ms * (slowest / interval_ms)
  }

  /**
   * The members a new form waits for: those heard from lately, and, until a member silent since this
   * peer started would count as offline, every member `known` by its capability: a restarted peer has
   * heard nobody yet, and an older member may be about to say hello.
   */
  awaitedOthers(known: Iterable<string>, startedAt: number, now: number): string[] {
    const live = this.liveOthers(now)
    if (now - startedAt >= this.#config.offline_after_ms) return live
    const all = new Set(live)
    for (const agent of known) if (agent !== this.#selfAgent) all.add(agent)
    return [...all]
  }

  /** A peer's status from its last heartbeat, at the pace that heartbeat said it keeps. */
  #statusOf(heard: Omit<HeardHeartbeat, 'wantedAt'> | undefined, now: number): PeerStatus {
    return peerStatus(heard?.receivedAt ?? null, now, this.#config, heard?.heartbeat.every_ms)
  }

  /**
   * Every known peer, self first (always present and online: this process is running), then the
   * others by status and name; `members`: the members on record where their capabilities are not all
   * read here (a sharded mesh), each listed, as a member, capability or not.
   */
  list(
    nodes: readonly EntryRecord<NodeCapability>[],
    self: { capability: NodeCapability; load: Heartbeat | null },
    now: number,
    members: readonly string[] = [],
  ): PeerEntry[] {
    const capabilities = new Map<string, NodeCapability>()
    for (const record of nodes) capabilities.set(record.author, record.entry)
    const onRecord = new Set(members)
    const others = new Set([...capabilities.keys(), ...this.#heard.keys(), ...onRecord])
    others.delete(this.#selfAgent)

    const selfEntry: PeerEntry = {
      agent: this.#selfAgent,
      self: true,
      status: 'online',
      name: self.capability.name,
      capability: self.capability,
      load: self.load,
      last_heartbeat_ms_ago: 0,
    }
    const rank: Record<PeerStatus, number> = { online: 0, stale: 1, offline: 2 }
    const peers = [...others].map((agent): PeerEntry => {
      const heard = this.#heard.get(agent)
      const capability = capabilities.get(agent) ?? null
      return {
        agent,
        self: false,
        status: this.#statusOf(heard, now),
        name: capability?.name ?? null,
        capability,
        load: heard?.heartbeat ?? null,
        last_heartbeat_ms_ago: heard ? now - heard.receivedAt : null,
        ...(capability === null && onRecord.has(agent) ? { member: true as const } : {}),
      }
    })
    peers.sort((a, b) => rank[a.status] - rank[b.status] || (a.name ?? '').localeCompare(b.name ?? ''))
    return [selfEntry, ...peers]
  }
}
