/**
 * A Ripple peer on an embedded network: libp2p with TCP + noise + yamux (+ the network's
 * pre-shared key), identify, ping and gossipsub, plus the pieces on top: the peer book (hello
 * handshake), gossip on the network's topics, request/response, and the dialer (explicit peers and
 * mDNS reports). Everything network-specific is derived from the network's name and seed.
 */
import '../runtime/node20-polyfills.ts'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { type GossipSub, gossipsub } from '@libp2p/gossipsub'
import { type Identify, type IdentifyPush, identify, identifyPush } from '@libp2p/identify'
import type { Libp2p, PeerDiscovery, PeerId, PrivateKey } from '@libp2p/interface'
import { type Ping, ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { NetworkConfig } from '../config/network-config.ts'
import { mdnsDiscovery } from './mdns-discovery.ts'
import { type NetworkIdentity, networkIdentity } from './network-identity.ts'
import { createPeerBook, type PeerBook } from './peer-book.ts'
import { type PeerDialer, startPeerDialer } from './peer-dialer.ts'
import { privateNetwork } from './private-network.ts'
import { createRipplePubsub, type RipplePubsub } from './pubsub.ts'
import { createRequestResponse, type RequestResponse } from './request-response.ts'

export interface RippleNodeInit {
  network: NetworkConfig
  /**
   * Ed25519, so the PeerId is the agent key: `await peerKeyFromSeed(seed)` (peer-key.ts). A fresh
   * key when unset.
   */
  privateKey?: PrivateKey
  /** Listen multiaddrs; the network's `libp2p.listen` when unset. */
  listen?: string[]
  /** Extra multiaddrs to keep connected (`--peer`), on top of the network's bootstrap list. */
  peers?: string[]
  /**
   * IPv4 address of the one interface mDNS may use. Unset: every interface (real LAN). Tests and
   * benchmarks pass '127.0.0.1' so no packet leaves the machine.
   */
  mdnsInterface?: string
  /**
   * Many peers on one machine (tests, benchmarks): exempt loopback from per-host connection rate
   * limits, and stop gossipsub scoring down peers that share 127.0.0.1.
   */
  loopbackTuning?: boolean
  /** How long a new connection has to pass the hello handshake. */
  handshakeTimeoutMs?: number
  /** Default timeout of `rpc.request`. */
  requestTimeoutMs?: number
  /**
   * Start at once (default). Pass false to register request handlers first, so no peer asks
   * before they exist.
   */
  start?: boolean
}

export type RippleServices = {
  identify: Identify
  identifyPush: IdentifyPush
  ping: Ping
  pubsub: GossipSub
}

export interface RippleNode {
  readonly libp2p: Libp2p<RippleServices>
  readonly peerId: PeerId
  readonly identity: NetworkIdentity
  /** Verified peers of this network, and their connect / disconnect events. */
  readonly peers: PeerBook
  readonly pubsub: RipplePubsub
  readonly rpc: RequestResponse
  /** Dialable addresses, each ending in `/p2p/<peer id>`. */
  multiaddrs(): Multiaddr[]
  start(): Promise<void>
  stop(): Promise<void>
}

/** The network has no libp2p section (a Holochain-backed network). */
export class NotAnEmbeddedNetworkError extends Error {
  static override readonly name = 'NotAnEmbeddedNetworkError'
  constructor(network: string) {
    super(`network "${network}" has no libp2p section: it is not an embedded network`)
    this.name = 'NotAnEmbeddedNetworkError'
  }
}

const LOOPBACK_RANGE = '/ip4/127.0.0.0/ipcidr/8'

export async function createRippleNode(init: RippleNodeInit): Promise<RippleNode> {
  const config = init.network.libp2p
  if (config === undefined) throw new NotAnEmbeddedNetworkError(init.network.name)
  const identity = networkIdentity(init.network)
  const loopback = init.loopbackTuning === true

  // Kept so the dialer hears every mDNS report: libp2p's own `peer:discovery` fires only for
  // peers new to its peer store, so a peer that restarts would never be dialled again.
  const discovery: PeerDiscovery[] = []
  const libp2p = await createLibp2p<RippleServices>({
    start: false,
    privateKey: init.privateKey,
    addresses: { listen: init.listen ?? config.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: config.psk === null ? undefined : privateNetwork(config.psk),
    connectionManager: loopback ? { allow: [LOOPBACK_RANGE] } : {},
    peerDiscovery: config.mdns
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
      // Tells connected peers of new protocols (bitswap starting after they identified this node).
      identifyPush: identifyPush(),
      ping: ping(),
      pubsub: gossipsub({
        allowedTopics: [identity.opsTopic, identity.signalsTopic],
        // Publishing while alone is normal (first peer up); anti-entropy delivers it later.
        allowPublishToZeroTopicPeers: true,
        scoreParams: loopback ? { IPColocationFactorWhitelist: new Set(['127.0.0.1']) } : {},
      }),
    },
  })

  const peers = createPeerBook(libp2p, identity, { handshakeTimeoutMs: init.handshakeTimeoutMs })
  const pubsub = createRipplePubsub(libp2p.services.pubsub, identity, peers)
  const rpc = createRequestResponse(libp2p, identity, peers, { timeoutMs: init.requestTimeoutMs })
  const explicitPeers = [...config.bootstrap, ...(init.peers ?? [])]
  let dialer: PeerDialer | undefined

  const node: RippleNode = {
    libp2p,
    peerId: libp2p.peerId,
    identity,
    peers,
    pubsub,
    rpc,
    multiaddrs: () => libp2p.getMultiaddrs(),
    async start() {
      if (dialer !== undefined) return
      await peers.start()
      await libp2p.start()
      pubsub.start()
      dialer = startPeerDialer(libp2p, { peers: explicitPeers, discovery })
    },
    async stop() {
      if (dialer === undefined) return
      dialer.stop()
      dialer = undefined
      pubsub.stop()
      rpc.stop()
      await peers.stop()
      await libp2p.stop()
    },
  }
  if (init.start !== false) await node.start()
  return node
}
