/**
 * A split mesh's peers over K processes (shard.ts), this process their controller (issue 56: one
 * event loop running every peer is what bounds the single-process simulation). Each process has its
 * own event loop, heap and collector; the peers link by TCP on 127.0.0.1 (the daemon's transport,
 * Noise and all), so a peer dials any other whatever its process. The controller decides what the
 * single-process mesh decides (joins, churn, load, probes) and asks each peer its counters over IPC;
 * a capability one process's peer writes to the agent_registry record is sent to every other's copy,
 * so every member reads the same record as in one process.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { EntryRecord, NodeCapability } from '../../zomes-bindings/index.ts'
import type { HeldOp } from './held-ops.ts'
import type { Counters, MeshPeer, PeerHost } from './mesh-peer.ts'
import type { ProcessFigures } from './process-meter.ts'
import type { PeerSettings } from './sim-mesh.ts'
import type { Outcome } from './sim-peer.ts'
import { simNodeArgs } from './sim-process.ts'

/** A capability written in one process, for every other's copy of the record. */
export type RecordWrite = [agent: string, entry: EntryRecord<NodeCapability>]

/** What the controller asks a process: its own ops, or one of its peers' (PEER_ASKS). */
export interface Ask {
  id: number
  op: string
  args: unknown[]
}

/** A process's answer to an ask, or a record write of one of its peers. */
export type ShardMessage = { id: number; value?: unknown; error?: string } | { record: RecordWrite }

/** A peer a process started, as the controller holds it. */
export type Started = Pick<MeshPeer, 'agent' | 'peerId'> & { addrs: string[] }

/** What a MeshPeer is asked, by method name (the rest of MeshPeer the controller holds itself). */
export const PEER_ASKS = [
  'connections',
  'counters',
  'entries',
  'request',
  'order',
  'connectedTo',
  'held',
  'lastBatch',
  'getRecord',
] as const

/** A peer of another process: its identity held here, every question asked there. */
class RemotePeer implements MeshPeer {
  readonly #shard: Shard
  readonly #addrs: string[]

  constructor(
    shard: Shard,
    readonly agent: string,
    readonly peerId: string,
    readonly serves: readonly string[],
    addrs: string[],
  ) {
    this.#shard = shard
    this.#addrs = addrs
  }

  addrs(): string[] {
    return this.#addrs
  }

  #ask<T>(method: (typeof PEER_ASKS)[number], ...args: unknown[]): Promise<T> {
    return this.#shard.call('peer', this.agent, method, ...args) as Promise<T>
  }

  connections = () => this.#ask<number>('connections')
  counters = () => this.#ask<Counters>('counters')
  entries = () => this.#ask<{ heard: number; directory: number }>('entries')
  request = (model: string, tryMs: number) => this.#ask<Outcome>('request', model, tryMs)
  order = (model: string) => this.#ask<string[]>('order', model)
  connectedTo = (peerId: string) => this.#ask<boolean>('connectedTo', peerId)
  held = () => this.#ask<HeldOp[]>('held')
  lastBatch = () => this.#ask<string | null>('lastBatch')
  getRecord = (actionHash: string) => this.#ask<{ from: string; ms: number }>('getRecord', actionHash)
}

/** One process of peers, asked over IPC (structured clone: Maps travel as Maps). */
class Shard {
  readonly #child: ChildProcess
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  #next = 0
  peers = 0

  constructor(share: number, onRecord: (from: Shard, write: RecordWrite) => void) {
    this.#child = fork(fileURLToPath(new URL('./shard.ts', import.meta.url)), [], {
      execArgv: simNodeArgs(share),
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.#child.on('message', (message: ShardMessage) => {
      if ('record' in message) return onRecord(this, message.record)
      const pending = this.#pending.get(message.id)
      this.#pending.delete(message.id)
      if (message.error === undefined) pending?.resolve(message.value)
      else pending?.reject(new Error(message.error))
    })
    this.#child.once('exit', (code) => {
      for (const { reject } of this.#pending.values())
        reject(new Error(`a mesh-sim process exited (${code})`))
      this.#pending.clear()
    })
  }

  call(op: string, ...args: unknown[]): Promise<unknown> {
    const id = this.#next++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#child.send({ id, op, args } satisfies Ask)
    })
  }

  tell(write: RecordWrite): void {
    this.#child.send({ record: write } satisfies ShardMessage)
  }

  exited(): Promise<void> {
    if (this.#child.exitCode !== null) return Promise.resolve()
    return new Promise((resolve) => this.#child.once('exit', () => resolve()))
  }
}

/** K processes of peers; a newcomer starts in the one holding fewest. */
export async function splitHost(settings: PeerSettings, processes: number): Promise<PeerHost> {
  const shards: Shard[] = []
  const relay = (from: Shard, write: RecordWrite) => {
    for (const shard of shards) if (shard !== from) shard.tell(write)
  }
  for (let i = 0; i < processes; i++) shards.push(new Shard(1 / processes, relay))
  await Promise.all(shards.map((s) => s.call('init', settings)))
  const where = new Map<string, Shard>()
  const all = <T>(op: string) => Promise.all(shards.map((s) => s.call(op) as Promise<T>))
  return {
    start: async (serves, bootstrap) => {
      const shard = shards.reduce((a, b) => (b.peers < a.peers ? b : a))
      shard.peers++
      const started = (await shard.call('start', serves, bootstrap)) as Started
      where.set(started.agent, shard)
      return new RemotePeer(shard, started.agent, started.peerId, serves, started.addrs)
    },
    stop: async (peer) => {
      const shard = where.get(peer.agent)!
      where.delete(peer.agent)
      shard.peers--
      await shard.call('stop', peer.agent)
    },
    members: async (list) => {
      await Promise.all(shards.map((s) => s.call('members', list)))
    },
    calm: async () => {
      await all('calm')
    },
    meter: async () => {
      await all('meter')
      return { stop: () => all<ProcessFigures>('meterStop') }
    },
    close: async () => {
      await all('close').catch(() => {})
      await Promise.all(shards.map((s) => s.exited()))
    },
  }
}
