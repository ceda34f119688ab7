/**
 * One simulated peer: a real createRippleNode (hello handshake, peer book, bounded peer exchange,
 * gossipsub and the model topics, the model directory, request/response, the member gate: the daemon's
 * own network code) over the in-memory transport, or TCP on loopback where the mesh is split over
 * processes (split-host.ts), its traffic counted by protocol, and the daemon's
 * own registry (registry-service.ts: capability, heartbeats at their pace, mesh-wide in a small mesh
 * and on the models' topics in a big one, adverts in the directory) over a stand-in conductor
 * (sim-conductor.ts). A request is routed as the daemon routes it: the plan over what this peer knows
 * (route-plan.ts), and where that holds no runner with a slot free, the directory and two runners
 * asked for their load (runner-discovery.ts, load-probe.ts). No engine: a served request holds a slot
 * for a while and answers a fixed size. Every interval is the network's divided by the speedup.
 */
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createGossipSignalTransport } from '../../host/conductor/embedded/replication/gossip-signal-transport.ts'
import type { NetworkConfig } from '../../host/config/network-schema.ts'
import type { LoadSampler } from '../../host/hardware/index.ts'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import type { AgentKey } from '../../host/identity/keystore.ts'
import { agentOfPeerB64 } from '../../host/identity/peer-agent.ts'
import type { AgentPort } from '../../host/interface/agent-port.ts'
import type { ConductorPort } from '../../host/interface/conductor-port.ts'
import type { ModelDirectoryPort } from '../../host/interface/model-directory.ts'
import { silentLogger } from '../../host/log/logger.ts'
import { GossipMeter } from '../../host/metrics/gossip-parts.ts'
import { TrafficMeter } from '../../host/metrics/traffic-meter.ts'
import { createRippleNode, type RippleNode } from '../../host/net/create-node.ts'
import { peerKeyFromSeed } from '../../host/net/peer-key.ts'
import { libp2pAgentPort } from '../../host/node/agent-port.ts'
import { RegistryService } from '../../host/registry/registry-service.ts'
import { answerLoad, PROBE_TIMEOUT_MS } from '../../host/requests/direct/load-probe.ts'
import { planRoute, type RoutePlanInput, type SentRequest } from '../../host/requests/direct/route-plan.ts'
import { discoverRunners, FIND_TIMEOUT_MS } from '../../host/requests/direct/runner-discovery.ts'
import { RunnerHealth } from '../../host/requests/direct/runner-health.ts'
import type { HeldOp } from './held-ops.ts'
import type { Counters, MeshPeer } from './mesh-peer.ts'
import { liftPerHostLimits } from './one-host.ts'
import { type CapabilityRecord, simConductor } from './sim-conductor.ts'
import { agentKey, capabilityOf } from './sim-identity.ts'
import { type MeshMembers, SimRecord } from './sim-record.ts'
import { slowLibraryTimers } from './slow-timers.ts'

export const INFER_PROTOCOL = 'sim-infer/1.0.0'
/** Requests a runner serves at once (an engine's parallel slots). */
export const SLOTS = 4
/** What a request and its answer carry: a short prompt, a short answer and its signed record. */
const REQUEST_BYTES = 1024
const ANSWER_BYTES = 4096
/** Runners a request tries before it fails (the first may be gone since the peer last heard of it). */
const TRIES = 3
/** How long a probe's look at a requester's plan may take (simulated): a find and its load probes, with room. */
const ORDER_TIMEOUT_SIM_MS = 10_000
/** A simulated machine's load: only what routing reads changes (its free slots). */
const IDLE_LOAD = { cpu_pct: 10, ram_pct: 40, gpu_pct: null }

export interface SimPeerInit {
  network: NetworkConfig
  /** The clock's speedup: every interval is divided by it. */
  speedup: number
  /** Peers it joins through (its invite's inviter and the mesh's bootstrap peers). */
  bootstrap: string[]
  /** Models it serves (loaded); none for a requester only. */
  serves: readonly string[]
  record: CapabilityRecord
  /** How long a served request holds a slot (real ms). */
  holdMs: number
  /** 'memory' (default): peers of one process; 'tcp': on 127.0.0.1, peers of several processes (split-host.ts). */
  transports?: 'memory' | 'tcp'
  /** The members its process's peers count, and the record slot (simulated ms): its record (sim-record.ts). */
  members: MeshMembers
  slotSimMs: number
}

export interface Outcome {
  ok: boolean
  /** Runners tried before one answered (or all failed). */
  tries: number
  /** Real ms from the ask to the answer. */
  ms: number
  /** Real ms spent finding runners before the first try (the plan, and the directory when it looked). */
  findMs: number
  /** Directory hops of this request's look (0: none needed, or answered from its cache). */
  hops: number
  /** Whether it asked the directory. */
  looked: boolean
}

export class SimPeer implements MeshPeer {
  readonly meter = new TrafficMeter()
  /** Its gossip by topic and part (what of it grows with the mesh). */
  readonly gossip = new GossipMeter()
  /** Heartbeats it sent: mesh-wide (the signals topic) and on model topics (one per topic). */
  readonly beats = { meshWide: 0, topic: 0 }
  readonly agent: string
  readonly serves: readonly string[]
  node!: RippleNode
  registry!: RegistryService
  record!: SimRecord
  #agents!: AgentPort<Stream>
  #directory!: ModelDirectoryPort
  /** Hops of the directory's last lookup from here. */
  #lastHops = 0
  readonly #init: SimPeerInit
  readonly #key: AgentKey
  readonly #seed: Uint8Array
  #busy = 0
  #served = 0
  readonly #outstanding = new Map<string, SentRequest[]>()
  /** Its runners' circuit breakers, as the daemon's requester keeps them: one that failed goes last. */
  readonly #health = new RunnerHealth()
  /** When the breakers' clock started (real ms). */
  readonly #epoch = Date.now()

  private constructor(init: SimPeerInit) {
    this.#init = init
    const { key, seed } = agentKey()
    this.#key = key
    this.#seed = seed
    this.agent = encodeHashB64(key.agentPubKey)
    this.serves = init.serves
  }

  static async start(init: SimPeerInit): Promise<SimPeer> {
    const peer = new SimPeer(init)
    await peer.#start()
    return peer
  }

  get served(): number {
    return this.#served
  }

  /** The network's heartbeat timing on the sped-up clock. */
  heartbeatConfig(): NetworkConfig['heartbeat'] {
    const { heartbeat } = this.#init.network
    const f = this.#init.speedup
    return {
      ...heartbeat,
      interval_ms: heartbeat.interval_ms / f,
      offline_after_ms: heartbeat.offline_after_ms / f,
    }
  }

  async #start(): Promise<void> {
    const init = this.#init
    const node = await createRippleNode({
      network: init.network,
      privateKey: await peerKeyFromSeed(this.#seed),
      transports: init.transports ?? 'memory',
      ...(init.transports === 'tcp' && { listen: ['/ip4/127.0.0.1/tcp/0'] }),
      peers: init.bootstrap,
      metrics: this.gossip.wrap(this.meter.hook),
      speedup: init.speedup,
      modelTopics: { baseMs: init.network.heartbeat.interval_ms },
      start: false,
    })
    this.node = node
    if (init.transports === 'tcp') liftPerHostLimits(node, init.network)
    slowLibraryTimers(node, init.speedup)
    // Every simulated peer is an admitted member (membership's own cost is the record's, not simulated).
    node.gate.use(async () => null)
    const signals = createGossipSignalTransport({
      pubsub: node.pubsub,
      topics: node.modelTopics,
      rpc: node.rpc,
      key: this.#key,
    })
    this.#directory = {
      advertise: (model) => node.directory.advertise(model),
      withdraw: (model) => node.directory.withdraw(model),
      find: async (model, options) => {
        const lookup = await node.directory.lookup(model, options)
        this.#lastHops = lookup.hops
        return lookup.runners.map(agentOfPeerB64).filter((a): a is string => a !== null)
      },
      stats: () => node.directory.stats(),
    }
    const base = simConductor(this.agent, signals, init.record)
    const topics = base.topics
    const conductor: ConductorPort = {
      ...base,
      broadcastSignal: (dna, payload) => {
        this.beats.meshWide++
        return base.broadcastSignal(dna, payload)
      },
      ...(topics && {
        topics: {
          ...topics,
          publish: (dna, topic, payload) => {
            this.beats.topic++
            return topics.publish(dna, topic, payload)
          },
        },
      }),
    }
    this.registry = new RegistryService({
      conductor,
      heartbeat: this.heartbeatConfig(),
      describe: async () => capabilityOf(this.agent.slice(-8), this.serves),
      resampleIntervalMs: 3_600_000,
      loadSampler: { sample: async () => IDLE_LOAD } as unknown as LoadSampler,
      queueDepth: () => 0,
      ...(this.serves.length > 0 && { freeSlots: () => SLOTS - this.#busy }),
      isMember: () => true,
      directory: this.#directory,
      logger: silentLogger(),
    })
    this.#agents = libp2pAgentPort(node)
    this.record = new SimRecord({
      key: this.#key,
      rpc: node.rpc,
      members: init.members,
      speedup: init.speedup,
      slotSimMs: init.slotSimMs,
      connected: (peer) => node.libp2p.getConnections(peer).length > 0,
      know: async (peer, addrs) => {
        await node.libp2p.peerStore.merge(peer, { multiaddrs: addrs.map((a) => multiaddr(a)) })
      },
      timeoutMs: FIND_TIMEOUT_MS / init.speedup,
    })
    await this.record.start()
    await answerLoad(this.#agents, () => this.registry.own())
    if (this.serves.length > 0) await this.#agents.answer(INFER_PROTOCOL, () => this.#serve())
    await node.start()
    await this.registry.start()
  }

  /** Leaves at once, as a machine switched off: its heartbeats stop, its adverts expire, its record stays. */
  async stop(): Promise<void> {
    this.record.stop()
    await this.registry.stop()
    await this.node.stop()
  }

  async #serve(): Promise<Uint8Array> {
    this.#busy++
    this.#served++
    this.record.answered()
    try {
      await new Promise((resolve) => setTimeout(resolve, this.#init.holdMs))
      return new Uint8Array(ANSWER_BYTES)
    } finally {
      this.#busy--
    }
  }

  /** The runners it would try for `model` now, in order, from what it knows and what a look finds. */
  async plan(
    model: string,
    signal: AbortSignal,
  ): Promise<{ order: string[]; hops: number; looked: boolean }> {
    const now = Date.now()
    const peers = await this.registry.peers(now)
    const breakerNow = this.#breakerNow()
    const passable = (agent: string) => this.#health.breakers.passable(agent, breakerNow)
    const planOver = (over: RoutePlanInput['peers']) =>
      this.#health
        .rank(
          planRoute({ peers: over, model, outstanding: this.#outstanding, now, needBytes: null }),
          model,
          null,
          () => null,
          breakerNow,
        )
        .filter((c) => !c.self)
        .map((c) => c.agent)
    this.#lastHops = 0
    const found = await discoverRunners(
      {
        directory: this.#directory,
        agents: this.#agents,
        hearsAll: () => this.registry.hearsAll(),
        using: (m) => this.registry.using(m),
        timeouts: {
          findMs: FIND_TIMEOUT_MS / this.#init.speedup,
          probeMs: PROBE_TIMEOUT_MS / this.#init.speedup,
        },
      },
      {
        self: this.agent,
        model,
        peers,
        plan: planRoute({ peers, model, outstanding: this.#outstanding, now, needBytes: null }),
        passable,
        signal,
      },
    )
    return { order: planOver(found ?? peers), hops: this.#lastHops, looked: found !== null }
  }

  /** One request for `model`: the plan's runners tried in order, each given `tryMs`. */
  async request(model: string, tryMs: number): Promise<Outcome> {
    const start = performance.now()
    const signal = AbortSignal.timeout(10 * tryMs)
    const none = { order: [] as string[], hops: 0, looked: false }
    const first = await this.plan(model, signal).catch(() => none)
    const { order, hops } = first
    let looked = first.looked
    const findMs = performance.now() - start
    let tries = 0
    for (let i = 0; i < Math.min(order.length, TRIES); i++) {
      const agent = order[i]!
      tries++
      const sent: SentRequest = { at: Date.now(), ended: null }
      this.#outstanding.set(agent, [...(this.#outstanding.get(agent) ?? []), sent])
      this.#health.breakers.on(agent, { type: 'sent' }, this.#breakerNow())
      try {
        await this.#agents.request(agent, INFER_PROTOCOL, new Uint8Array(REQUEST_BYTES), { timeoutMs: tryMs })
        this.#health.breakers.on(agent, { type: 'succeeded' }, this.#breakerNow())
        return { ok: true, tries, ms: performance.now() - start, findMs, hops, looked }
      } catch {
        // The next runner: one gone since this peer heard of it costs one try, and goes last from now;
        // with no other it may take, the directory, once (as the daemon's request does).
        this.#health.breakers.on(agent, { type: 'failed' }, this.#breakerNow())
        if (!looked) {
          const again = await this.plan(model, signal).catch(() => none)
          looked = again.looked
          for (const more of again.order) if (!order.includes(more)) order.push(more)
        }
      } finally {
        sent.ended = Date.now()
        this.#forgetOld(agent)
      }
    }
    return { ok: false, tries, ms: performance.now() - start, findMs, hops, looked }
  }

  /**
   * The breakers' clock, sped up with the mesh's: a breaker's cool-down (5 s) is the daemon's in
   * simulated time; on the real clock a slow mesh (0.01x at 1,000 peers) reopened a dead runner to the
   * next request 0.05 simulated seconds after it failed. Speeds are not timed here, so rank reads it too.
   */
  #breakerNow(): number {
    return this.#epoch + (Date.now() - this.#epoch) * this.#init.speedup
  }

  /** Requests ended more than two beats ago: any heartbeat since counts them. */
  #forgetOld(agent: string): void {
    const horizon = Date.now() - 2 * this.heartbeatConfig().interval_ms
    const keep = (this.#outstanding.get(agent) ?? []).filter((r) => r.ended === null || r.ended > horizon)
    if (keep.length === 0) this.#outstanding.delete(agent)
    else this.#outstanding.set(agent, keep)
  }

  get peerId(): string {
    return this.node.peerId.toString()
  }

  addrs(): string[] {
    return this.node.multiaddrs().map((a) => a.toString())
  }

  async connections(): Promise<number> {
    return this.node.libp2p.getConnections().length
  }

  async connectedTo(peerId: string): Promise<boolean> {
    return this.node.libp2p.getConnections(peerIdFromString(peerId)).length > 0
  }

  async counters(): Promise<Counters> {
    const flows = new Map([...this.meter.byProtocol].map(([protocol, flow]) => [protocol, { ...flow }]))
    const gossip = new Map([...this.gossip.parts].map(([key, part]) => [key, { ...part }]))
    const { inbound, outbound } = this.node.connectionsOpened
    const record = { ...this.record.counters }
    return { flows, gossip, beats: { ...this.beats }, opened: inbound + outbound, record }
  }

  async held(): Promise<HeldOp[]> {
    return this.record.held.list()
  }

  async lastBatch(): Promise<string | null> {
    return this.record.lastBatch
  }

  async getRecord(actionHash: string): Promise<{ from: string; ms: number }> {
    return this.record.get(actionHash)
  }

  async order(model: string): Promise<string[]> {
    // On the simulated clock: a real 10 s cut every look into the directory short at a slow clock (a
    // find takes 1.6 s simulated, 160 real at 1,000 peers), and a far requester never saw a new runner.
    const signal = AbortSignal.timeout(ORDER_TIMEOUT_SIM_MS / this.#init.speedup)
    const plan = await this.plan(model, signal).catch(() => ({ order: [] }))
    return plan.order
  }

  /** Entries it holds about other peers: heartbeats heard, and the directory's routing table and records. */
  async entries(): Promise<{ heard: number; directory: number }> {
    const peers = await this.registry.peers()
    const heard = peers.filter((p) => !p.self && p.last_heartbeat_ms_ago !== null).length
    const { routingTable, records } = this.node.directory.stats()
    return { heard, directory: routingTable + records }
  }
}
