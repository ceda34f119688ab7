/**
 * The directory of who serves which model: the mesh's own Kademlia (`@libp2p/kad-dht`) under the
 * network's private protocol, members only. A runner advertises each model it serves as a provider
 * record under its shard's key (model-keys.ts); the record expires after `validityMs` and kad-dht
 * re-advertises it every `readvertiseMs` until it is withdrawn. A requester finds runners in O(log N)
 * hops (each key is held by its 20 closest peers) and keeps the answer `cacheMs`. A peer's share: its
 * routing table (~20 log2(N/20) peers) and the records of the keys closest to it, not one entry per member.
 *
 * Members only, both ways: a directory stream from a peer the member gate does not admit is reset
 * before it is read, and such a peer never enters the routing table, so no query goes to it.
 */

import { setMaxListeners } from 'node:events'
import {
  contentRoutingSymbol,
  KEEP_ALIVE,
  type Libp2p,
  type PeerData,
  type PeerId,
  peerRoutingSymbol,
} from '@libp2p/interface'
import {
  EventTypes,
  type KadDHT,
  type KadDHTComponents,
  kadDHT,
  MessageType,
  passthroughMapper,
} from '@libp2p/kad-dht'
import { MemoryDatastore } from 'datastore-core'
import type { Key } from 'interface-datastore'
import { pingConnectedOnly } from './directory-ping.ts'
import type { MemberGate } from './member-gate.ts'
import { MODEL_SHARDS, modelShardKey, shardOf, shardRounds } from './model-keys.ts'
import type { NetworkIdentity } from './network-identity.ts'
import { walkShard } from './shard-walk.ts'

export const DIRECTORY_PROTOCOL_SUFFIX = 'kad/1.0.0'

export interface DirectoryTimings {
  /** How often a runner's adverts are renewed. */
  readvertiseMs: number
  /** How long an advert stays valid unrenewed: a runner gone is dropped from answers after this. */
  validityMs: number
  /** How long a `find` answer is reused (one naming no runner: `advertRetryMs` at most). */
  cacheMs: number
  /** How long a `find` may take. */
  findTimeoutMs: number
  /** How soon an advert that reached too few peers (a runner that started alone) is sent again. */
  advertRetryMs: number
}

export const DEFAULT_DIRECTORY_TIMINGS: DirectoryTimings = {
  readvertiseMs: 120_000,
  validityMs: 360_000,
  cacheMs: 10_000,
  findTimeoutMs: 10_000,
  advertRetryMs: 2_000,
}

/** Peers an advert is sent to before it counts as out (or every peer known, in a smaller mesh). */
export const ADVERT_REACH = 4

export interface FindOptions {
  /** Runners wanted; more shards are read only while fewer were found. Default 8. */
  limit?: number
  signal?: AbortSignal
}

export interface Lookup {
  runners: PeerId[]
  /** Hops to the first peer that named runners (0: this peer held the record, or the cache did). */
  hops: number
  /** Directory queries sent. */
  queries: number
}

export interface ModelDirectory {
  /** Advertises `model` (renewed every `readvertiseMs` until withdrawn); a second call changes nothing. */
  advertise(model: string): void
  withdraw(model: string): void
  /** The models this peer advertises. */
  advertised(): string[]
  /** Runners of `model` other than this peer, in O(log N) hops; cached briefly. */
  find(model: string, options?: FindOptions): Promise<PeerId[]>
  /** `find` with what it cost (the simulation's figures). */
  lookup(model: string, options?: FindOptions): Promise<Lookup>
  /** Directory entries held here: peers in the routing table, provider records stored. */
  stats(): { routingTable: number; records: number }
  /** Finds a member's addresses (O(log N) hops) and stores them for the dial; whether any were found. */
  locate(peer: PeerId, options: { signal: AbortSignal }): Promise<boolean>
}

export interface DirectoryInit {
  identity: NetworkIdentity
  gate: MemberGate
  timings: DirectoryTimings
  /** Serve queries from the start (a LAN or an in-memory mesh); unset: once this peer has a public address. */
  server: boolean
  /** Runs the DHT's own timers (query-self) this many times faster; 1 = real time. */
  speedup?: number
}

const PROVIDER_PREFIX = '/dht/provider/'

/** Provider records in memory (a restart forgets them), counted for `stats`. */
class RecordStore extends MemoryDatastore {
  readonly records = new Set<string>()
  override put(key: Key, value: Uint8Array, options?: Parameters<MemoryDatastore['put']>[2]) {
    if (key.toString().startsWith(PROVIDER_PREFIX)) this.records.add(key.toString())
    return super.put(key, value, options)
  }
  override delete(key: Key, options?: Parameters<MemoryDatastore['delete']>[1]) {
    this.records.delete(key.toString())
    return super.delete(key, options)
  }
}

/** The tag kad-dht puts on the 20 peers closest to this one, for libp2p to keep them connected. */
export const KAD_KEEP_ALIVE = `${KEEP_ALIVE}-kad-dht`

/**
 * Kad-dht's components with its handlers and peers behind the member gate, its own record store, its
 * contacts checked over open connections only (directory-ping.ts), and no peer kept connected: kad-dht
 * keeps its 20 closest peers connected (redialled when dropped), which made every mesh of up to 21
 * fully connected and cost a peer 20 connections at any size. A routing table entry needs no open
 * connection (a lookup dials it; the trimmer closes it later unused); the closeness stays a value
 * libp2p's pruner reads.
 */
function membersOnly(components: KadDHTComponents, gate: MemberGate, store: RecordStore): KadDHTComponents {
  const { registrar, peerStore } = components
  const gated = withMethods(registrar, {
    handle: (protocol, handler, options) =>
      registrar.handle(protocol, gate.guard(protocol, handler), options),
    register: (protocol, topology) =>
      registrar.register(protocol, {
        ...topology,
        onConnect: async (peer, connection) => {
          if ((await gate.refusal(peer, protocol, { quiet: true })) !== null) return
          await topology.onConnect?.(peer, connection)
        },
      }),
  })
  const ping = pingConnectedOnly(components.ping, components.connectionManager)
  const unkept = withMethods(peerStore, {
    merge: (peer, data, options) => peerStore.merge(peer, withoutKeepAlive(data), options),
  })
  return new Proxy(components, {
    get(target, prop) {
      if (prop === 'registrar') return gated
      if (prop === 'peerStore') return unkept
      if (prop === 'datastore') return store
      if (prop === 'ping') return ping
      return Reflect.get(target, prop, target)
    },
  })
}

/** `target` with some of its methods replaced, the others bound to it. */
function withMethods<T extends object>(target: T, methods: Partial<T>): T {
  return new Proxy(target, {
    get(object, prop) {
      if (Object.hasOwn(methods, prop)) return methods[prop as keyof T]
      const value = Reflect.get(object, prop, object)
      return typeof value === 'function' ? value.bind(object) : value
    },
  })
}

function withoutKeepAlive(data: PeerData): PeerData {
  if (data.tags === undefined || !(KAD_KEEP_ALIVE in data.tags)) return data
  const { [KAD_KEEP_ALIVE]: _dropped, ...tags } = data.tags
  return { ...data, tags }
}

export interface DirectoryService {
  /** The libp2p service factory (`services.directory`). */
  factory: (components: KadDHTComponents) => KadDHT
  /** The directory over the started service. */
  open(libp2p: Libp2p<{ directory: KadDHT }>): ModelDirectory
}

/**
 * The directory answers only its own lookups. As libp2p's peer or content router it would also serve
 * libp2p's random walk (which circuit relay's discovery runs, and which spins without a pause while a lone
 * peer's queries end at once) and anything else that asks libp2p to route.
 */
function unrouted(dht: KadDHT): KadDHT {
  Object.defineProperty(dht, peerRoutingSymbol, { value: undefined })
  Object.defineProperty(dht, contentRoutingSymbol, { value: undefined })
  return dht
}

export function directoryService(init: DirectoryInit): DirectoryService {
  const { timings } = init
  const scale = init.speedup ?? 1
  const store = new RecordStore()
  const factory = (components: KadDHTComponents) =>
    unrouted(
      kadDHT({
        protocol: init.identity.protocol(DIRECTORY_PROTOCOL_SUFFIX),
        // A member's LAN and loopback addresses are as good as any in a private mesh.
        peerInfoMapper: passthroughMapper,
        ...(init.server ? { clientMode: false } : {}),
        // A lone first peer answers from its own records rather than waiting for a second.
        allowQueryWithZeroPeers: true,
        // Kademlia's own concurrency (js defaults to 10 peers at a time, on 10 disjoint paths): a lookup
        // asks 3 peers a round, so it costs ~3 log N messages, and starting peers do not dial a mesh at once.
        alpha: 3,
        disjointPaths: 1,
        querySelfInterval: 300_000 / scale,
        initialQuerySelfInterval: 1_000 / scale,
        providers: { provideValidity: timings.validityMs / 1000 },
        reprovide: {
          validity: timings.validityMs,
          // Checked twice an advert's life; renewed once older than `readvertiseMs`.
          interval: timings.readvertiseMs / 2,
          threshold: Math.max(0, timings.validityMs - timings.readvertiseMs),
        },
      })(membersOnly(components, init.gate, store)),
    )
  return {
    factory,
    open: (libp2p) => new DefaultModelDirectory(libp2p, init.identity.tag, timings, store),
  }
}

class DefaultModelDirectory implements ModelDirectory {
  readonly #advertised = new Map<string, ReturnType<typeof modelShardKey>>()
  readonly #cache = new Map<string, { at: number; lookup: Lookup }>()
  readonly #libp2p: Libp2p<{ directory: KadDHT }>
  readonly #tag: string
  readonly #timings: DirectoryTimings
  readonly #store: RecordStore
  readonly #log: ReturnType<Libp2p['logger']['forComponent']>

  constructor(
    libp2p: Libp2p<{ directory: KadDHT }>,
    tag: string,
    timings: DirectoryTimings,
    store: RecordStore,
  ) {
    this.#libp2p = libp2p
    this.#tag = tag
    this.#timings = timings
    this.#store = store
    this.#log = libp2p.logger.forComponent('ripple:directory')
  }

  get #dht(): KadDHT {
    return this.#libp2p.services.directory
  }

  get #routed(): number {
    return (this.#dht as KadDHT & { routingTable?: { size: number } }).routingTable?.size ?? 0
  }

  advertise(model: string): void {
    if (this.#advertised.has(model)) return
    const key = modelShardKey(this.#tag, model, shardOf(this.#libp2p.peerId.toString()))
    this.#advertised.set(model, key)
    this.#provide(model, key)
  }

  /**
   * Sends the advert to its key's closest peers, again after `retryMs` (doubling, up to the renewal)
   * while it reached fewer than ADVERT_REACH (or every peer known): a runner advertises as it starts,
   * often before it knows a peer, and an advert in its own store alone was found by nobody till renewed.
   */
  #provide(
    model: string,
    key: ReturnType<typeof modelShardKey>,
    retryMs = this.#timings.advertRetryMs,
  ): void {
    const signal = AbortSignal.timeout(this.#timings.findTimeoutMs * 3)
    const send = async () => {
      let reached = 0
      for await (const event of this.#dht.provide(key, { signal }))
        if (event.type === EventTypes.PEER_RESPONSE && event.messageType === MessageType.ADD_PROVIDER)
          reached++
      return reached
    }
    const again = () => {
      if (this.#advertised.get(model) !== key || this.#libp2p.status !== 'started') return
      setTimeout(() => {
        if (this.#advertised.get(model) === key && this.#libp2p.status === 'started')
          this.#provide(model, key, Math.min(2 * retryMs, this.#timings.readvertiseMs))
      }, retryMs).unref()
    }
    send().then(
      (reached) => {
        if (reached === 0 || reached < Math.min(ADVERT_REACH, this.#routed)) again()
      },
      (err: Error) => {
        this.#log('advertising %s failed - %e', model, err)
        again()
      },
    )
  }

  withdraw(model: string): void {
    const key = this.#advertised.get(model)
    if (key === undefined) return
    this.#advertised.delete(model)
    this.#dht.cancelReprovide(key).catch((err: Error) => this.#log('withdrawing %s - %e', model, err))
  }

  advertised(): string[] {
    return [...this.#advertised.keys()]
  }

  async find(model: string, options: FindOptions = {}): Promise<PeerId[]> {
    return (await this.lookup(model, options)).runners
  }

  async lookup(model: string, options: FindOptions = {}): Promise<Lookup> {
    const limit = options.limit ?? 8
    const cached = this.#cache.get(model)
    // An answer naming no runner is kept only as long as a runner that just started takes to send its
    // advert again: a far requester finds a new runner that soon, not a whole cache lifetime later.
    const { cacheMs, advertRetryMs } = this.#timings
    const keepMs = cached?.lookup.runners.length === 0 ? Math.min(cacheMs, advertRetryMs) : cacheMs
    if (cached !== undefined && Date.now() - cached.at < keepMs) {
      return { ...cached.lookup, hops: 0, queries: 0 }
    }
    const signal = AbortSignal.any([
      AbortSignal.timeout(this.#timings.findTimeoutMs),
      ...(options.signal ? [options.signal] : []),
    ])
    // Up to MODEL_SHARDS walks at once listen on it, each on several paths: many, by design.
    setMaxListeners(Number.POSITIVE_INFINITY, signal)
    const found = new Map<string, PeerId>()
    let hops = Number.POSITIVE_INFINITY
    let queries = 0
    for (const round of shardRounds(MODEL_SHARDS)) {
      const answers = await Promise.all(
        round.map((shard) => this.#readShard(modelShardKey(this.#tag, model, shard), signal)),
      )
      for (const answer of answers) {
        queries += answer.queries
        hops = Math.min(hops, answer.hops)
        for (const peer of answer.runners) found.set(peer.toString(), peer)
      }
      if (found.size >= limit || signal.aborted) break
    }
    const lookup = {
      runners: [...found.values()].slice(0, limit),
      hops: Number.isFinite(hops) ? hops : 0,
      queries,
    }
    if (this.#cache.size > 1024) this.#cache.clear()
    this.#cache.set(model, { at: Date.now(), lookup })
    return lookup
  }

  async #readShard(key: ReturnType<typeof modelShardKey>, signal: AbortSignal): Promise<Lookup> {
    const walk = await walkShard(this.#dht.findProviders(key, { signal }), this.#libp2p.peerId)
    if (walk.error !== null && !signal.aborted) this.#log('reading %c failed - %e', key, walk.error)
    // So a request dials a runner by id with no further lookup.
    for (const provider of walk.providers) {
      if (provider.multiaddrs.length === 0) continue
      await this.#libp2p.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs }).catch(() => {})
    }
    return { runners: walk.providers.map((p) => p.id), hops: walk.hops, queries: walk.queries }
  }

  async locate(peer: PeerId, options: { signal: AbortSignal }): Promise<boolean> {
    const signal = AbortSignal.any([options.signal, AbortSignal.timeout(this.#timings.findTimeoutMs)])
    try {
      for await (const event of this.#dht.findPeer(peer, { signal })) {
        if (event.type !== EventTypes.FINAL_PEER || event.peer.multiaddrs.length === 0) continue
        await this.#libp2p.peerStore.merge(peer, { multiaddrs: event.peer.multiaddrs })
        return true
      }
    } catch (err) {
      if (!signal.aborted) this.#log('locating %p failed - %e', peer, err)
    }
    return false
  }

  stats(): { routingTable: number; records: number } {
    return { routingTable: this.#routed, records: this.#store.records.size }
  }
}
