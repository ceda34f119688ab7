/**
 * A simulated mesh of N peers in this process (sim-peer.ts), on a clock sped up by one factor: every
 * interval of the protocol (heartbeats, gossipsub's heartbeat, pings, peer exchange) and of the
 * scenario (churn, request load, the probes' waits) is divided by it, so a simulated second lasts
 * 1/speedup of a real one. Peers join as a new member does: through a few peers already in (an
 * invite's inviter and the bootstrap peers). A tenth of them run a model (of MODELS); the rest only ask.
 */
import { loadNetworkConfig } from '../../host/config/network-config.ts'
import type { NetworkConfig } from '../../host/config/network-schema.ts'
import type { CapabilityRecord } from './sim-conductor.ts'
import { SimPeer } from './sim-peer.ts'

export const MODELS = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'] as const
/** Share of peers that run a model. */
const RUNNER_SHARE = 0.1
/** Peers a newcomer joins through. */
const JOIN_THROUGH = 3
/** Peers started at once while the mesh grows (each joins through peers already up). */
const START_BATCH = 10
/** The event loop has caught up after a batch when 5 timers in a row fire within 50 ms of their time. */
const CALM_TICKS = 5
const CALM_LAG_MS = 50
const CALM_MAX_MS = 5_000

export interface SimMeshInit {
  size: number
  speedup: number
  /** A served request holds a slot this long, simulated. */
  holdSimMs?: number
}

export class SimMesh {
  readonly peers: SimPeer[] = []
  readonly record: CapabilityRecord = new Map()
  readonly network: NetworkConfig
  readonly speedup: number
  /** How long a served request holds a slot (real ms). */
  readonly holdMs: number
  #joined = 0

  private constructor(network: NetworkConfig, init: SimMeshInit) {
    this.network = network
    this.speedup = init.speedup
    this.holdMs = (init.holdSimMs ?? 5_000) / init.speedup
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
    const mesh = new SimMesh(network, init)
    while (mesh.peers.length < init.size) {
      // Each batch joins through peers already up: the first peer starts the mesh alone.
      const batch = Math.min(START_BATCH, mesh.peers.length, init.size - mesh.peers.length) || 1
      await Promise.all(Array.from({ length: batch }, () => mesh.join()))
      // The next batch once this process has caught up: in a real mesh each peer has a machine of its
      // own, and a herd of handshakes timing out on one starved event loop would only measure this one.
      await calm()
    }
    return mesh
  }

  /** Real ms for a simulated span. */
  real(simMs: number): number {
    return simMs / this.speedup
  }

  /** A new member: through a few random peers already in; a runner of one model one time in ten. */
  async join(serves?: readonly string[]): Promise<SimPeer> {
    const n = this.#joined++
    const runner =
      serves ?? (n % Math.round(1 / RUNNER_SHARE) === 0 ? [MODELS[(n / 10) % MODELS.length]!] : [])
    const through = sample(this.peers, JOIN_THROUGH).flatMap((p) =>
      p.node.multiaddrs().map((a) => a.toString()),
    )
    const peer = await SimPeer.start({
      network: this.network,
      speedup: this.speedup,
      bootstrap: through,
      serves: runner,
      record: this.record,
      holdMs: this.holdMs,
    })
    this.peers.push(peer)
    return peer
  }

  /** A peer leaves at once (switched off): its heartbeats stop, its record stays. */
  async leave(peer: SimPeer): Promise<void> {
    this.peers.splice(this.peers.indexOf(peer), 1)
    await peer.stop()
  }

  runners(model?: string): SimPeer[] {
    return this.peers.filter((p) => p.serves.length > 0 && (model === undefined || p.serves.includes(model)))
  }

  requesters(): SimPeer[] {
    return this.peers.filter((p) => p.serves.length === 0)
  }

  async stop(): Promise<void> {
    await Promise.all(this.peers.splice(0).map((p) => p.stop().catch(() => {})))
  }
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
