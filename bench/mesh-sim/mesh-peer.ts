/**
 * What the simulation's controller (sim-mesh.ts, sim-run.ts, sim-probes.ts) sees of a simulated peer
 * and of what hosts the peers: one process (a SimPeer is a MeshPeer itself), or several linked by TCP
 * on loopback (split-host.ts: each peer a handle whose every question goes to its process). Every
 * question is asynchronous so both answer it the same way.
 */

import type { GossipPart } from '../../host/metrics/gossip-parts.ts'
import type { Flow } from '../../host/metrics/traffic-meter.ts'
import type { HeldOp } from './held-ops.ts'
import type { ProcessFigures } from './process-meter.ts'
import type { Outcome } from './sim-peer.ts'
import type { Member, RecordCounters } from './sim-record.ts'

/** A peer's counters at one moment: traffic by protocol, gossip by part, heartbeats sent. */
export interface Counters {
  flows: Map<string, Flow>
  gossip: Map<string, GossipPart>
  beats: { meshWide: number; topic: number }
  /** Connections it opened, both directions (each a handshake). */
  opened: number
  record: RecordCounters
}

export interface MeshPeer {
  readonly agent: string
  readonly peerId: string
  readonly serves: readonly string[]
  /** Where a newcomer dials it. */
  addrs(): string[]
  connections(): Promise<number>
  counters(): Promise<Counters>
  /** Entries it holds about other peers: heartbeats heard, and the directory's routing table and records. */
  entries(): Promise<{ heard: number; directory: number }>
  /** One request for `model`, each runner tried given `tryMs` (real). */
  request(model: string, tryMs: number): Promise<Outcome>
  /** The runners its plan for `model` would try now, in order (none when the plan fails). */
  order(model: string): Promise<string[]>
  connectedTo(peerId: string): Promise<boolean>
  /** The record's ops it holds (its own and those it holds as a holder). */
  held(): Promise<HeldOp[]>
  /** The action hash of its latest public batch (null before its first slot ended). */
  lastBatch(): Promise<string | null>
  /** Gets a record by action hash from its holders (holder-get.ts): who served it, in real ms. */
  getRecord(actionHash: string): Promise<{ from: string; ms: number }>
}

/** Where the peers run: starts and stops them, and says what running them costs. */
export interface PeerHost {
  start(serves: readonly string[], bootstrap: string[]): Promise<MeshPeer>
  stop(peer: MeshPeer): Promise<void>
  /** The members now (the controller's live peers): every peer counts them, and hands its ops on. */
  members(members: readonly Member[]): Promise<void>
  /** Resolves once every process hosting peers has caught up with its event loop. */
  calm(): Promise<void>
  /** Starts measuring every process hosting peers; `stop` gives one figure per process. */
  meter(): Promise<{ stop: () => Promise<ProcessFigures[]> }>
  /** Ends what hosts the peers (the peers stopped first). */
  close(): Promise<void>
}
