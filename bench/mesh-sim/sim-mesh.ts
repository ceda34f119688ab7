/**
 * A simulated mesh of N peers (sim-peer.ts), on a clock sped up by one factor: every
 * interval of the protocol (heartbeats, gossipsub's heartbeat, pings, peer exchange) and of the
 * scenario (churn, request load, the probes' waits) is divided by it, so a simulated second lasts
 * 1/speedup of a real one. Peers join as a new member does: through a few peers already in (an
 * invite's inviter and the bootstrap peers). A tenth of them run a model (of MODELS); the rest only ask.
 * The peers run in this process over the in-memory transport, or over K processes linked by TCP on
 * loopback (`processes`, split-host.ts), this process their controller: the same decisions either way.
 */
import { loadNetworkConfig } from '../../host/config/network-config.ts'
import { DEFAULT_SERVED_SLOT_MS, type NetworkConfig } from '../../host/config/network-schema.ts'
import type { MeshPeer, PeerHost } from './mesh-peer.ts'
import { processMeter } from './process-meter.ts'
import type { CapabilityRecord } from './sim-conductor.ts'
import { SimPeer } from './sim-peer.ts'
import { type Member, MeshMembers } from './sim-record.ts'
import { splitHost } from './split-host.ts'

export const MODELS = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'] as const
/** Share of peers that run a model. */
const RUNNER_SHARE = 0.1
/** Peers a newcomer joins through. */
const JOIN_THROUGH = 3
/**
 * Peers started at once while the mesh grows (each joins through peers already up): START_BATCH, then a
 * tenth of those up, at most START_BATCH_MAX. A fixed 10 made a thousand peers 100 batches, each ending
 * with a wait for the loop to calm (up to CALM_MAX_MS, which a loop carrying hundreds of peers seldom
 * reaches sooner): 300 peers in one process started in 270 s, most of it waiting (164 s in these batches).
 */
const START_BATCH = 10
const START_GROWTH = 0.1
const START_BATCH_MAX = 50
/** The event loop has caught up after a batch when 5 timers in a row fire within 50 ms of their time. */
const CALM_TICKS = 5
const CALM_LAG_MS = 50
const CALM_MAX_MS = 5_000

export interface SimMeshInit {
  size: number
  speedup: number
  /** A served request holds a slot this long, simulated. */
  holdSimMs?: number
  /** Processes the peers run in (default 1: this one, over the in-memory transport). */
  processes?: number
  /** The record slot, simulated (default the network file's, a minute). */
  slotSimMs?: number
}

/** Everything a peer of this mesh starts with but its place in it. */
export interface PeerSettings {
  network: NetworkConfig
  speedup: number
  /** How long a served request holds a slot (real ms). */
  holdMs: number
  /** The record slot, simulated. */
  slotSimMs: number
}

/** Peers in this process (those of one process of a split mesh too), sharing one capability record and members. */
export function localHost(
  settings: PeerSettings,
  record: CapabilityRecord = new Map(),
  transports: 'memory' | 'tcp' = 'memory',
): PeerHost & { peer: (agent: string) => SimPeer } {
  const members = new MeshMembers()
  const peers = new Map<string, SimPeer>()
  const peer = (agent: string) => {
    const found = peers.get(agent)
    if (found === undefined) throw new Error(`no simulated peer ${agent} here`)
    return found
  }
  return {
    peer,
    start: async (serves, bootstrap) => {
      const started = await SimPeer.start({ ...settings, bootstrap, serves, record, transports, members })
      peers.set(started.agent, started)
      return started
    },
    stop: async ({ agent }) => {
      const leaving = peer(agent)
      peers.delete(agent)
      await leaving.stop()
    },
    members: async (list) => members.set(list),
    calm,
    meter: async () => {
      const meter = processMeter()
      return { stop: async () => [meter.stop()] }
    },
    close: async () => {
      await Promise.all([...peers.values()].map((p) => p.stop().catch(() => {})))
      peers.clear()
    },
  }
}

export class SimMesh {
  readonly peers: MeshPeer[] = []
  readonly host: PeerHost
  readonly speedup: number
  /** How long a served request holds a slot (real ms). */
  readonly holdMs: number
  /** The record slot, simulated. */
  readonly slotSimMs: number
  #joined = 0

  private constructor(host: PeerHost, settings: PeerSettings) {
    this.host = host
    this.speedup = settings.speedup
    this.holdMs = settings.holdMs
    this.slotSimMs = settings.slotSimMs
  }

  /** The mainnet's timing on a network of its own (no mDNS, no relays: in-memory links). */
  static async start(init: SimMeshInit): Promise<SimMesh> {
    const mainnet = await loadNetworkConfig('mainnet')
    const network: NetworkConfig = {
      ...mainnet,
      name: 'mesh-sim',
      seed: `mesh-sim-${process.pid}-${Date.now()}`,
      libp2p: { ...mainnet.libp2p!, mdns: false, relay_reservations: 0, bootstrap: [] },
    }
    const settings = {
      network,
      speedup: init.speedup,
      holdMs: (init.holdSimMs ?? 5_000) / init.speedup,
      slotSimMs: init.slotSimMs ?? network.record?.served_slot_ms ?? DEFAULT_SERVED_SLOT_MS,
    }
    const processes = init.processes ?? 1
    const host = processes > 1 ? await splitHost(settings, processes) : localHost(settings)
    const mesh = new SimMesh(host, settings)
    const startedAt = performance.now()
    while (mesh.peers.length < init.size) {
      // Each batch joins through peers already up: the first peer starts the mesh alone.
      const up = mesh.peers.length
      await mesh.joinMany(startBatch(up, init.size))
      // A long start-up says how far it got (a run stopped in it has that to show).
      if (Math.floor(mesh.peers.length / 100) > Math.floor(up / 100))
        process.stderr.write(
          `mesh-sim: ${mesh.peers.length} of ${init.size} peers up in ${Math.round((performance.now() - startedAt) / 1000)} s\n`,
        )
      // The next batch once this process has caught up: in a real mesh each peer has a machine of its
      // own, and a herd of handshakes timing out on one starved event loop would only measure this one.
      await host.calm()
    }
    return mesh
  }

  /** Real ms for a simulated span. */
  real(simMs: number): number {
    return simMs / this.speedup
  }

  /** A new member: through a few random peers already in; a runner of one model one time in ten. */
  async join(serves?: readonly string[]): Promise<MeshPeer> {
    const peer = await this.#start(serves)
    await this.host.members(this.members())
    return peer
  }

  /**
   * `count` new members at once, the members told once: each update goes to every process and has each
   * of its peers look at its held ops again (once a join, that was O(N^2) over a start-up).
   */
  async joinMany(count: number): Promise<MeshPeer[]> {
    const peers = await Promise.all(Array.from({ length: count }, () => this.#start()))
    await this.host.members(this.members())
    return peers
  }

  /** A new peer up and in the list; the members not told yet. */
  async #start(serves?: readonly string[]): Promise<MeshPeer> {
    const n = this.#joined++
    const runner =
      serves ?? (n % Math.round(1 / RUNNER_SHARE) === 0 ? [MODELS[(n / 10) % MODELS.length]!] : [])
    const through = sample(this.peers, JOIN_THROUGH).flatMap((p) => p.addrs())
    const peer = await this.host.start(runner, through)
    this.peers.push(peer)
    return peer
  }

  /** A peer leaves at once (switched off): its heartbeats stop, its record stays. */
  async leave(peer: MeshPeer): Promise<void> {
    this.peers.splice(this.peers.indexOf(peer), 1)
    const stopped = this.host.stop(peer)
    // The others count it gone at once, whether or not its node has finished stopping.
    await this.host.members(this.members())
    await stopped
  }

  /** The members now, as membership tells each peer: agent and addresses. */
  members(): Member[] {
    return this.peers.map((p) => ({ agent: p.agent, addrs: p.addrs() }))
  }

  runners(model?: string): MeshPeer[] {
    return this.peers.filter((p) => p.serves.length > 0 && (model === undefined || p.serves.includes(model)))
  }

  requesters(): MeshPeer[] {
    return this.peers.filter((p) => p.serves.length === 0)
  }

  async stop(): Promise<void> {
    this.peers.splice(0)
    await this.host.close()
  }
}

/** How many of the peers still to start start at once, `up` being up already (the first starts alone). */
export function startBatch(up: number, size: number): number {
  const batch = Math.max(START_BATCH, Math.min(START_BATCH_MAX, Math.round(START_GROWTH * up)))
  return Math.min(batch, up, size - up) || 1
}

/**
 * Resolves once CALM_TICKS timers of 50 ms in a row each fire within CALM_LAG_MS of their time, or after
 * CALM_MAX_MS (a mesh that keeps this process busy at rest goes on: the run's loop delay says so).
 */
async function calm(): Promise<void> {
  const deadline = performance.now() + CALM_MAX_MS
  for (let calmTicks = 0; calmTicks < CALM_TICKS && performance.now() < deadline; ) {
    const start = performance.now()
    await new Promise((resolve) => setTimeout(resolve, 50))
    calmTicks = performance.now() - start - 50 < CALM_LAG_MS ? calmTicks + 1 : 0
  }
}

/** Up to `count` of `items` at random. */
export function sample<T>(items: readonly T[], count: number): T[] {
  const pool = [...items]
  for (let i = 0; i < Math.min(count, pool.length); i++) {
    const j = i + Math.floor(Math.random() * (pool.length - i))
    ;[pool[i], pool[j]] = [pool[j]!, pool[i]!]
  }
  return pool.slice(0, count)
}
