/**
 * A Ripple peer on an embedded network: libp2p with TCP + noise + yamux (+ the network's
 * pre-shared key), identify, ping and gossipsub, plus the pieces on top: the peer book (hello
 * handshake), gossip on the network's topics, request/response, and the dialer (explicit peers and
 * mDNS reports). Everything network-specific is derived from the network's name and seed.
 */
import '../runtime/node20-polyfills.ts'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { type GossipSub, gossipsub } from '@libp2p/gossipsub'
import { type Identify, type IdentifyPush, identify, identifyPush } from '@libp2p/identify'
import type { Connection, Libp2p, PeerDiscovery, PeerId, PrivateKey } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import { memory } from '@libp2p/memory'
import { type Ping, ping } from '@libp2p/ping'
import { plaintext } from '@libp2p/plaintext'
import { tcp } from '@libp2p/tcp'
import { webRTC } from '@libp2p/webrtc'
import type { Multiaddr } from '@multiformats/multiaddr'
import { FsDatastore } from 'datastore-fs'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import type { NetworkConfig } from '../config/network-schema.ts'
import { agentOfPeerB64 } from '../identity/peer-agent.ts'
import type { ReleaseStatement } from '../interface/release.ts'
import type { Logger } from '../log/logger.ts'
import { clockedTimeouts } from './clocked-timeouts.ts'
import { connectionBudget, DEFAULT_MAX_CONNECTIONS, wantsNeighbours } from './connection-budget.ts'
import { countOpens, type OpenCounts } from './connection-opens.ts'
import { type ConnectionTrimmer, startConnectionTrimmer } from './connection-trimmer.ts'
import { DialOrder } from './dial-order.ts'
import { type DirectUpgrade, startDirectUpgrade } from './direct-upgrade.ts'
import { NotAnEmbeddedNetworkError } from './errors.ts'
import { allowNetworkTopics, gossipOptions } from './gossip-options.ts'
import { mdnsDiscovery } from './mdns-discovery.ts'
import { MemberAddresses } from './member-addresses.ts'
import { type DialCounts, memberFinder } from './member-dial.ts'
import { MemberGate } from './member-gate.ts'
import { PeerVersions } from './mesh-versions.ts'
import {
  DEFAULT_DIRECTORY_TIMINGS,
  type DirectoryTimings,
  directoryService,
  type ModelDirectory,
} from './model-directory.ts'
import { createModelTopics, type ModelTopics, type ModelTopicsInit } from './model-topics.ts'
import { type NetworkIdentity, networkIdentity } from './network-identity.ts'
import { createPeerBook, type PeerBook } from './peer-book.ts'
import { type PeerDialer, startPeerDialer } from './peer-dialer.ts'
import { type PeerExchange, startPeerExchange } from './peer-exchange.ts'
import { createPeerStreams, MAX_STREAMS, type PeerStreams } from './peer-streams.ts'
import { privateNetwork } from './private-network.ts'
import { createRipplePubsub, type RipplePubsub } from './pubsub.ts'
import { libp2pLogger } from './quiet-logger.ts'
import { createRequestResponse, type RequestResponse } from './request-response.ts'
import { stunServers } from './stun-port.ts'
import { batchingWrites } from './writes-per-turn.ts'

export interface RippleNodeInit {
  network: NetworkConfig
  /**
   * Ed25519, so the PeerId is the agent key: `await peerKeyFromSeed(seed)` (peer-key.ts). A fresh
   * key when unset.
   */
  privateKey?: PrivateKey
  /** Listen multiaddrs; the network's `libp2p.listen` when unset. */
  listen?: string[]
  /** Extra multiaddrs to keep connected (`--peer`, `--bootstrap`), on top of the network's bootstrap list. */
  peers?: string[]
  /**
   * Where the peer store is kept (the peers this node met, redialled at the next start); in memory
   * when unset.
   */
  peerStoreDir?: string
  /** How often peer exchange asks connected peers for theirs; default 10 s. */
  peerExchangeIntervalMs?: number
  /**
   * IPv4 address of the one interface mDNS may use. Unset: every interface (real LAN). Tests and
   * benchmarks pass '127.0.0.1' so no packet leaves the machine.
   */
  mdnsInterface?: string
  /**
   * Many peers on one machine (tests, benchmarks): exempt loopback from per-host connection rate
   * limits.
   */
  loopbackTuning?: boolean
  /** Where refused peers and failed stream handlers are logged. */
  logger?: Logger
  /** How long a new connection has to pass the hello handshake. */
  handshakeTimeoutMs?: number
  /** What this peer states in its hello; this release's by default (tests state others). */
  statement?: ReleaseStatement
  /** Default timeout of `rpc.request`. */
  requestTimeoutMs?: number
  /**
   * Start at once (default). Pass false to register request handlers first, so no peer asks
   * before they exist.
   */
  start?: boolean
  /**
   * 'memory': links within this process only (`@libp2p/memory`, listening on `/memory/<id>`), so the
   * mesh simulation runs many nodes of this same code in one process; 'tcp' (default): TCP, relays
   * and WebRTC.
   */
  transports?: 'tcp' | 'memory'
  /** libp2p's metrics hook (it sees every protocol stream): the simulation counts traffic by protocol. */
  metrics?: Libp2pOptions['metrics']
  /**
   * The simulation's sped-up clock: the node's own periodic timers (gossipsub's heartbeat, the
   * connection monitor's pings, peer exchange, the directory's adverts, the model topics' pace) run
   * this many times as often, and its timeouts are as much shorter (clocked-timeouts.ts). Default 1.
   */
  speedup?: number
  /** The directory's timings (before `speedup`); DEFAULT_DIRECTORY_TIMINGS for the rest. */
  directory?: Partial<DirectoryTimings>
  /** The model topics' pace (`baseMs` before `speedup`; the network's heartbeat by default). */
  modelTopics?: Omit<ModelTopicsInit, 'speedup'>
}

export type RippleServices = {
  identify: Identify
  identifyPush: IdentifyPush
  ping: Ping
  pubsub: GossipSub
  directory: KadDHT
}

export interface RippleNode {
  readonly libp2p: Libp2p<RippleServices>
  readonly peerId: PeerId
  readonly identity: NetworkIdentity
  /** Verified peers of this network, and their connect / disconnect events. */
  readonly peers: PeerBook
  readonly pubsub: RipplePubsub
  /** Who serves which model: the mesh's Kademlia, members only (model-directory.ts). */
  readonly directory: ModelDirectory
  /** Members' addresses as their heartbeats tell them, dialled before a directory walk (member-addresses.ts). */
  readonly memberAddresses: MemberAddresses
  /** The ways members were dialled since start: peer store, told addresses, directory walks. */
  readonly memberDials: Readonly<DialCounts>
  /** Connections opened since start, by direction (connection-opens.ts). */
  readonly connectionsOpened: Readonly<OpenCounts>
  /** Load and slot news per model, heard by its runners and users only (model-topics.ts). */
  readonly modelTopics: ModelTopics
  readonly rpc: RequestResponse
  /** Raw byte streams to members (the split's RPC tunnel, direct requests). */
  readonly streams: PeerStreams
  /** Who may be served: what the coordination layer admits (it sets the check). */
  readonly gate: MemberGate
  /**
   * The release and protocol versions each peer stated in its hello, and the gate for writing a new
   * form; the coordination layer sets who the members are (until then, the peers connected now).
   */
  readonly versions: PeerVersions
  /** Dialable addresses, each ending in `/p2p/<peer id>`. */
  multiaddrs(): Multiaddr[]
  /** Whether an open connection carries streams (a WebRTC one only once it carried one). */
  usable(connection: Connection): boolean
  /** Refuses `peer` from now on (a revoked agent): its connections close, new ones are refused at the gate. */
  deny(peer: PeerId): Promise<void>
  start(): Promise<void>
  stop(): Promise<void>
}

const LOOPBACK_RANGE = '/ip4/127.0.0.0/ipcidr/8'

export async function createRippleNode(init: RippleNodeInit): Promise<RippleNode> {
  const config = init.network.libp2p
  if (config === undefined) throw new NotAnEmbeddedNetworkError(init.network.name)
  const identity = networkIdentity(init.network)
  const loopback = init.loopbackTuning === true
  const inMemory = init.transports === 'memory'
  const speedup = init.speedup ?? 1
  const clocked = clockedTimeouts(speedup)
  const budget = connectionBudget(config.max_connections ?? DEFAULT_MAX_CONNECTIONS)
  const gate = new MemberGate(init.logger)
  const timings: DirectoryTimings = { ...DEFAULT_DIRECTORY_TIMINGS, ...init.directory }
  const directory = directoryService({
    identity,
    gate,
    timings: {
      readvertiseMs: timings.readvertiseMs / speedup,
      validityMs: timings.validityMs / speedup,
      cacheMs: timings.cacheMs / speedup,
      findTimeoutMs: timings.findTimeoutMs / speedup,
      advertRetryMs: timings.advertRetryMs / speedup,
    },
    // A LAN's or an in-memory mesh's peers can all be dialled; behind NAT one serves once it is public.
    server: inMemory || (config.relay_reservations ?? 0) === 0,
    speedup,
  })

  // Kept so the dialer hears every mDNS report: libp2p's `peer:discovery` fires only for peers new
  // to its peer store, so a peer that restarts would never be dialled again.
  const discovery: PeerDiscovery[] = []
  const datastore = init.peerStoreDir === undefined ? undefined : new FsDatastore(init.peerStoreDir)
  await datastore?.open()
  // Each `/p2p-circuit` listen address is one reservation on a relay among the connected peers;
  // `/webrtc` lets peers reach us directly (signalled over the relay) where the NATs allow.
  const denied = new Set<string>()
  const isDenied = (peer: PeerId) => denied.has(peer.toString())
  const reservations = config.relay_reservations ?? 0
  const relaySlots = [
    ...Array.from({ length: reservations }, () => '/p2p-circuit'),
    ...(reservations > 0 ? ['/webrtc'] : []),
  ]
  const dialOrder = new DialOrder()
  const quiet = libp2pLogger()
  const libp2p = await createLibp2p<RippleServices>({
    start: false,
    ...(quiet && { logger: quiet }),
    privateKey: init.privateKey,
    datastore,
    ...(init.metrics && { metrics: init.metrics }),
    addresses: {
      listen: inMemory
        ? (init.listen ?? [`/memory/${crypto.randomUUID()}`])
        : [...(init.listen ?? config.listen), ...relaySlots],
    },
    // Circuit relay dials peers behind NAT through a relay (every node can, whether it reserves or not).
    transports: inMemory
      ? [memory()]
      : [
          tcp(),
          circuitRelayTransport(),
          ...(reservations > 0
            ? [webRTC({ rtcConfiguration: { iceServers: stunServers(config.bootstrap, init.peers) } })]
            : []),
        ],
    // A turn's writes on a TCP connection in one syscall (writes-per-turn.ts). In memory both ends are
    // one process, with no wire to hide from: the simulation's thousand peers skip Noise's handshakes.
    connectionEncrypters: inMemory ? [plaintext()] : [batchingWrites(noise())],
    // Room on one connection for every protocol's streams, direct requests' held open included (peer-streams.ts).
    streamMuxers: [yamux({ maxInboundStreams: 4 * MAX_STREAMS, maxOutboundStreams: 4 * MAX_STREAMS })],
    connectionProtector:
      config.psk === null ? undefined : privateNetwork(config.psk, { logger: init.logger }),
    connectionGater: {
      denyDialPeer: isDenied,
      denyInboundEncryptedConnection: isDenied,
      denyOutboundEncryptedConnection: isDenied,
    },
    connectionManager: {
      ...(loopback ? { allow: [LOOPBACK_RANGE] } : {}),
      // Bounded whatever the mesh's size (connection-budget.ts): past it the least valued are closed.
      maxConnections: budget.max,
      // In memory, many nodes upgrade on one event loop: past libp2p's 10 pending inbound (TCP lifts it by address).
      ...(inMemory ? { maxIncomingPendingConnections: budget.max } : {}),
      ...clocked.connectionManager,
      // A peer lost to a relay's limit or a restart is redialled for ~1 min before it is given up,
      // over the relay first when WebRTC did not carry (dial-order.ts).
      reconnectRetries: 6,
      reconnectRetryInterval: 500,
      reconnectBackoffFactor: 2,
      addressSorter: dialOrder.sort,
    },
    connectionMonitor: clocked.connectionMonitor,
    peerDiscovery:
      config.mdns && !inMemory
        ? [
            (components) => {
              const mdns = mdnsDiscovery({
                serviceTag: identity.mdnsServiceTag,
                interface: init.mdnsInterface,
              })(components)
              discovery.push(mdns)
              return mdns
            },
          ]
        : [],
    services: {
      identify: identify(),
      // Tells connected peers of new protocols (bitswap after identify) and addresses (a relayed one).
      identifyPush: identifyPush(),
      // Answers a late ping too (see connectionMonitor). The connection monitor, a split's round-trip
      // times and the direct-connection probe all ping; with one outbound ping stream per peer, two at
      // once failed one, and a monitor's failed ping aborted the connection (a split's relayed tunnel too).
      ping: ping({ timeout: 20_000, maxOutboundStreams: 4, maxInboundStreams: 8 }),
      pubsub: gossipsub(gossipOptions(speedup)),
      directory: directory.factory,
    },
  })
  allowNetworkTopics(libp2p.services.pubsub, identity)

  const peers = createPeerBook(libp2p, identity, {
    handshakeTimeoutMs: init.handshakeTimeoutMs ?? clocked.handshakeMs,
    statement: init.statement,
  })
  const agentsOf = (list: PeerId[]) => list.map(agentOfPeerB64).filter((a): a is string => a !== null)
  const versions = new PeerVersions({
    own: init.statement,
    self: agentOfPeerB64(libp2p.peerId),
    members: () => agentsOf(peers.list()),
    logger: init.logger,
  })
  peers.addEventListener('peer:stated', ({ detail }) => {
    const agent = agentOfPeerB64(detail.peer)
    if (agent !== null) versions.record(agent, detail.statement)
  })
  // A peer refused at the hello (a newer hello, another network) is said once per peer and reason,
  // however often it redials.
  const refusals = new Set<string>()
  peers.addEventListener('peer:rejected', ({ detail }) => {
    const key = `${detail.peer}\n${detail.reason}`
    if (refusals.has(key)) return
    if (refusals.size >= 256) refusals.clear()
    refusals.add(key)
    init.logger?.warn({ peer: detail.peer.toString(), why: detail.reason }, 'refused a peer at the hello')
  })
  const pubsub = createRipplePubsub(libp2p.services.pubsub, identity, peers)
  const modelTopics = createModelTopics(libp2p.services.pubsub, identity, peers, {
    baseMs: init.network.heartbeat.interval_ms,
    ...init.modelTopics,
    speedup,
  })
  let upgrade: DirectUpgrade | undefined
  const usable = (connection: Connection) => upgrade?.usable(connection) ?? true
  const models = directory.open(libp2p)
  const memberAddresses = new MemberAddresses(libp2p.peerId, () => libp2p.getMultiaddrs())
  const find = memberFinder(
    (p) => memberAddresses.of(p),
    (p, o) => models.locate(p, o),
  )
  const rpc = createRequestResponse(libp2p, identity, peers, gate, {
    timeoutMs: init.requestTimeoutMs ?? clocked.requestMs,
    usable,
    versions,
    find,
  })
  const explicitPeers = [...config.bootstrap, ...(init.peers ?? [])]
  let dialer: PeerDialer | undefined
  let exchange: PeerExchange | undefined
  let trimmer: ConnectionTrimmer | undefined

  const node: RippleNode = {
    libp2p,
    peerId: libp2p.peerId,
    identity,
    peers,
    pubsub,
    directory: models,
    modelTopics,
    rpc,
    memberAddresses,
    memberDials: find.counts,
    connectionsOpened: countOpens(libp2p),
    streams: createPeerStreams(libp2p, identity, peers, gate, init.logger, versions, find, (peer) =>
      rpc.working(peer),
    ),
    gate,
    versions,
    multiaddrs: () => libp2p.getMultiaddrs(),
    usable,
    async deny(peer) {
      denied.add(peer.toString())
      gate.forget(peer)
      await libp2p.hangUp(peer).catch(() => {})
    },
    async start() {
      if (dialer !== undefined) return
      await peers.start()
      // Before libp2p starts, like the hello handler, so no peer finds it missing.
      const intervalMs = init.peerExchangeIntervalMs ?? 10_000 / speedup
      // Explicit peers are a way in, counted apart from the neighbours (peer-dialer.ts); behind NAT
      // they are its relays, and kept.
      const isExplicit = (peer: PeerId) => dialer?.isExplicit(peer) === true
      const started = await startPeerExchange({ libp2p, peers, rpc, budget, intervalMs, isExplicit })
      exchange = started
      const neighbours = () => started.neighbours()
      await libp2p.start()
      pubsub.start()
      modelTopics.start()
      dialer = startPeerDialer(libp2p, {
        peers: explicitPeers,
        discovery,
        wanted: (pending) => wantsNeighbours(neighbours() + pending, budget),
        ...(reservations > 0 ? {} : { settled: () => !wantsNeighbours(neighbours(), budget) }),
      })
      trimmer = startConnectionTrimmer(libp2p, { budget, rpc, speedup })
      if (reservations > 0) upgrade = startDirectUpgrade(libp2p, peers, dialOrder)
    },
    async stop() {
      if (dialer === undefined) return
      dialer.stop()
      dialer = undefined
      trimmer?.stop()
      await exchange?.stop()
      exchange = undefined
      upgrade?.stop()
      upgrade = undefined
      modelTopics.stop()
      pubsub.stop()
      rpc.stop()
      await peers.stop()
      await libp2p.stop()
      await datastore?.close()
    },
  }
  if (init.start !== false) await node.start()
  return node
}
