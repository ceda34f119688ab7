/**
 * The daemon's Prometheus metrics (prom-client), in a registry of its own so several daemons can run
 * in one process (tests). Gauges are read when scraped; counters of replication mirror its own
 * cumulative counts; task latency, claims and tokens are taken from each task submitted here once it
 * ends, model load times as models load, API requests as they are answered.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { TaskState, TaskStatus } from '../../zomes-bindings/index.ts'
import type { KnownPeer } from '../interface/live-peers.ts'
import type { GossipPartSent, NetTraffic, ProtocolFlow, ReplicationStats } from '../interface/network-port.ts'
import { memberCount } from '../registry/member-count.ts'
import type { DirectStats } from '../requests/direct/direct-inference.ts'
import type { MetricsPort } from './metrics-port.ts'

export interface MetricsSources {
  peers: () => Promise<{
    peers: (Pick<KnownPeer, 'status' | 'capability'> & { revoked?: boolean })[]
    warrants: unknown[]
  }>
  /** The tasks this host holds or follows: read locally, a scrape never waits on other peers. */
  tasks: () => Promise<{ status: TaskStatus }[]>
  /** Null on a backend that does not replicate itself (holochain). */
  replication: () => ReplicationStats | null
  /** Actions on this agent's source chain in each DNA (its head's sequence number). */
  chainActions?: () => Promise<Record<string, number>>
  /** This peer's traffic by protocol and its connections; null where the backend keeps them (Holochain). */
  traffic?: () => NetTraffic | null
  /** Whether records live with their R holders now (embedded only, record-sharding.ts). */
  sharded?: () => boolean
}

const PEER_STATUSES = ['online', 'stale', 'offline'] as const

export class DaemonMetrics implements MetricsPort {
  readonly registry = new Registry()
  readonly #taskDuration: Histogram<'status'>
  readonly #tasksEnded: Counter<'status'>
  readonly #claims: Counter
  readonly #tokens: Counter
  readonly #tokensPerSecond: Gauge
  readonly #modelLoad: Histogram<'model'>
  readonly #requests: Counter<'route' | 'method' | 'status'>
  readonly #replicationLag: Histogram
  /** Requests routed straight to a runner from here (`followDirect`); unset where none are. */
  #direct: (() => DirectStats) | null = null

  constructor(sources: MetricsSources) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'ripple_' })
    new Gauge({
      name: 'ripple_peers',
      help: 'Peers this host sees, by status',
      labelNames: ['status'],
      registers,
      async collect() {
        const { peers } = await sources.peers()
        for (const status of PEER_STATUSES)
          this.set({ status }, peers.filter((p) => p.status === status).length)
      },
    })
    new Gauge({
      name: 'ripple_members',
      help: 'Members of the mesh as the record shows them (capabilities advertised, not revoked)',
      registers,
      async collect() {
        this.set(memberCount((await sources.peers()).peers))
      },
    })
    new Gauge({
      name: 'ripple_record_sharded',
      help: 'Whether records that grow with time live with their holders only: 1 past record.holders members all speaking record/1, 0 while every peer keeps everything (always on Holochain)',
      registers,
      collect() {
        this.set(sources.sharded?.() ? 1 : 0)
      },
    })
    this.#netCounters(sources.traffic ?? (() => null))
    new Gauge({
      name: 'ripple_warrants',
      help: 'Warrants this host holds against agents that sent invalid ops',
      registers,
      async collect() {
        this.set((await sources.peers()).warrants.length)
      },
    })
    new Gauge({
      name: 'ripple_tasks',
      help: 'Tasks this host holds or follows (open, or submitted here lately), by state; a scrape asks no other peer',
      labelNames: ['state'],
      registers,
      async collect() {
        this.reset()
        for (const task of await sources.tasks()) this.inc({ state: task.status })
      },
    })
    const mirror = (name: string, help: string, read: (s: ReplicationStats) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const stats = sources.replication()
          if (stats === null) return
          // The replicator keeps the running count; the counter shows it.
          this.reset()
          this.inc(read(stats))
        },
      })
    new Gauge({
      name: 'ripple_chain_actions',
      help: "Signed actions on this agent's source chain, by DNA",
      labelNames: ['dna'],
      registers,
      async collect() {
        if (!sources.chainActions) return
        this.reset()
        for (const [dna, actions] of Object.entries(await sources.chainActions())) this.set({ dna }, actions)
      },
    })
    const directStats = () => this.#direct?.() ?? null
    const direct = (name: string, help: string, read: (s: DirectStats) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const stats = directStats()
          if (stats === null) return
          this.reset()
          this.inc(read(stats))
        },
      })
    direct('ripple_direct_requests_total', 'Requests sent from here straight to a runner', (s) => s.requests)
    direct(
      'ripple_direct_failovers_total',
      'Runners that refused or dropped a request before its first token (the next one got it)',
      (s) => s.failovers,
    )
    direct(
      'ripple_direct_recorded_total',
      'Requests served and recorded (Answer and Served)',
      (s) => s.recorded,
    )
    direct(
      'ripple_direct_unrecorded_total',
      'Requests served whose record could not be made',
      (s) => s.unrecorded,
    )
    mirror(
      'ripple_ops_received_total',
      'Ops of other agents received (gossip and catch-up)',
      (s) => s.gossiped + s.fetched,
    )
    mirror('ripple_ops_stored_total', 'Received ops verified and stored', (s) => s.stored)
    mirror(
      'ripple_ops_rejected_total',
      'Received ops that failed verification (their authors are warranted)',
      (s) => s.rejected,
    )
    mirror('ripple_ops_published_total', "This agent's ops published by gossip", (s) => s.published)
    mirror('ripple_replication_syncs_total', 'Anti-entropy exchanges completed', (s) => s.syncs)
    mirror(
      'ripple_record_pushes_sent_total',
      "Pushes of this agent's neighbourhood ops to their holders (sharded records; each once, however often retried)",
      (s) => s.pushes.sent,
    )
    mirror('ripple_record_pushes_acked_total', 'Pushes a holder acknowledged', (s) => s.pushes.acked)
    mirror(
      'ripple_record_pushes_failed_total',
      'Pushes given up after every retry (left to anti-entropy)',
      (s) => s.pushes.failed,
    )
    mirror(
      'ripple_record_pushed_ops_received_total',
      'Ops pushed here by their authors or a hand-off',
      (s) => s.pushes.opsReceived,
    )
    mirror(
      'ripple_record_pushed_ops_kept_total',
      'Ops pushed here and kept (stored, already held, or waiting for what precedes them)',
      (s) => s.pushes.opsKept,
    )
    new Gauge({
      name: 'ripple_replication_pending_ops',
      help: 'Replication lag: ops received that wait for predecessors or dependencies before they can be stored',
      registers,
      collect() {
        const stats = sources.replication()
        if (stats !== null) this.set(stats.pending)
      },
    })
    this.#taskDuration = new Histogram({
      name: 'ripple_task_duration_seconds',
      help: 'Tasks submitted here: from submission to their end, by final status',
      labelNames: ['status'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    })
    this.#tasksEnded = new Counter({
      name: 'ripple_tasks_ended_total',
      help: 'Tasks submitted here that ended, by final status',
      labelNames: ['status'],
      registers,
    })
    this.#claims = new Counter({
      name: 'ripple_claims_total',
      help: 'Claims made on tasks submitted here',
      registers,
    })
    this.#tokens = new Counter({
      name: 'ripple_tokens_generated_total',
      help: 'Tokens generated for tasks submitted here (every answer of a fan-out)',
      registers,
    })
    this.#tokensPerSecond = new Gauge({
      name: 'ripple_tokens_per_second',
      help: 'Generation speed of the latest inference result for a task submitted here',
      registers,
    })
    this.#modelLoad = new Histogram({
      name: 'ripple_model_load_seconds',
      help: 'Time to load a model into memory on this peer',
      labelNames: ['model'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    })
    this.#replicationLag = new Histogram({
      name: 'ripple_replication_lag_seconds',
      help: "Age of other agents' ops when stored here (their author's timestamp to now; catch-up of older ops included)",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    })
    this.#requests = new Counter({
      name: 'ripple_api_requests_total',
      help: 'API requests answered, by route pattern, method and status code',
      labelNames: ['route', 'method', 'status'],
      registers,
    })
  }

  /** A task submitted here ended: its latency, claims and tokens. */
  taskEnded(state: TaskState, endedAtMs = Date.now()): void {
    const seconds = Math.max(0, endedAtMs - state.task.timestamp / 1000) / 1000
    this.#taskDuration.observe({ status: state.status }, seconds)
    this.#tasksEnded.inc({ status: state.status })
    this.#claims.inc(state.claims.length)
    for (const result of state.results) {
      const { tokens_out, tokens_per_second } = result.entry.metrics
      if (tokens_out !== null) this.#tokens.inc(tokens_out)
      if (tokens_per_second !== null) this.#tokensPerSecond.set(tokens_per_second)
    }
  }

  /** Counts the requests routed straight to a runner from here (the direct route, built after the metrics). */
  followDirect(stats: () => DirectStats): void {
    this.#direct = stats
  }

  /** A request routed straight to its runner was answered: its tokens. */
  answerServed(tokensOut: number | null, tokensPerSecond: number | null): void {
    if (tokensOut !== null) this.#tokens.inc(tokensOut)
    if (tokensPerSecond !== null) this.#tokensPerSecond.set(tokensPerSecond)
  }

  /** Other agents' ops stored here, by age in seconds (a clock behind this one's counts as 0). */
  opsStored(ages: readonly number[]): void {
    for (const age of ages) this.#replicationLag.observe(Math.max(0, age))
  }

  modelLoaded(model: string, loadMs: number): void {
    this.#modelLoad.observe({ model }, loadMs / 1000)
  }

  request(route: string, method: string, status: number): void {
    this.#requests.inc({ route, method, status: String(status) })
  }

  /** The Prometheus text exposition. */
  /** Messages and bytes by protocol each way, and the connections open: what this peer pays the mesh. */
  #netCounters(traffic: () => NetTraffic | null): void {
    const registers = [this.registry]
    const byProtocol = (name: string, help: string, read: (f: ProtocolFlow, dir: 'in' | 'out') => number) =>
      new Counter({
        name,
        help,
        labelNames: ['protocol', 'dir'],
        registers,
        collect() {
          const now = traffic()
          if (now === null) return
          // The meter keeps the running counts; the counter shows them.
          this.reset()
          for (const [protocol, flow] of now.flows)
            for (const dir of ['in', 'out'] as const) this.inc({ protocol, dir }, read(flow, dir))
        },
      })
    byProtocol(
      'ripple_net_messages_total',
      'Messages on the network by libp2p protocol and direction',
      (f, dir) => (dir === 'in' ? f.msgsIn : f.msgsOut),
    )
    byProtocol(
      'ripple_net_bytes_total',
      'Payload bytes on the network by libp2p protocol and direction',
      (f, dir) => (dir === 'in' ? f.bytesIn : f.bytesOut),
    )
    const byPart = (name: string, help: string, read: (p: GossipPartSent) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['topic', 'part'],
        registers,
        collect() {
          const gossip = traffic()?.gossip
          if (gossip === undefined) return
          this.reset()
          for (const [key, sent] of gossip) {
            const [topic, part] = key.split(':', 2)
            this.inc({ topic, part }, read(sent))
          }
        },
      })
    byPart(
      'ripple_net_gossip_sent_total',
      'Gossipsub RPC parts sent, by topic class (signals, model, ops, other; any where none is named) and part (message, subscription, graft, prune, undecoded; ihave, iwant, idontwant counted in message ids)',
      (p) => p.count,
    )
    byPart(
      'ripple_net_gossip_sent_bytes_total',
      'Bytes of the gossipsub RPC parts sent (as encoded), by topic class and part',
      (p) => p.bytes,
    )
    new Counter({
      name: 'ripple_record_reads_total',
      help: 'Reads zome calls here asked of holders (sharded records), by DNA, zome function and kind (record, links)',
      labelNames: ['dna', 'fn', 'kind'],
      registers,
      collect() {
        const reads = traffic()?.reads
        if (reads === undefined) return
        this.reset()
        for (const { dna, fn, kind, count } of reads) this.inc({ dna, fn, kind }, count)
      },
    })
    new Counter({
      name: 'ripple_net_member_dials_total',
      help: 'Dials of members by the way tried: the peer store, the addresses they told, a directory walk (a lookup)',
      labelNames: ['via'],
      registers,
      collect() {
        const dials = traffic()?.dials
        if (dials === undefined) return
        this.reset()
        for (const [via, count] of Object.entries(dials)) this.inc({ via }, count)
      },
    })
    new Counter({
      name: 'ripple_net_connections_opened_total',
      help: 'Connections opened since start, by direction: each a handshake at both ends',
      labelNames: ['direction'],
      registers,
      collect() {
        const opened = traffic()?.opened
        if (opened === undefined) return
        this.reset()
        for (const [direction, count] of Object.entries(opened)) this.inc({ direction }, count)
      },
    })
    new Gauge({
      name: 'ripple_net_connections',
      help: 'Connections this peer holds open now',
      registers,
      collect() {
        const now = traffic()
        if (now !== null) this.set(now.connections)
      },
    })
  }

  text(): Promise<string> {
    return this.registry.metrics()
  }
}
