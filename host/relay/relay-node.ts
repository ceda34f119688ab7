/**
 * `ripple relay`: a publicly reachable node that is the bootstrap peer of one or more networks, a
 * circuit relay v2 hop for their peers behind NAT, and a STUN responder (UDP) that tells them their
 * public mapping for direct WebRTC connections. It answers each network's hello and peer exchange
 * (so peers learn each other's relayed addresses from it), holds no chain, runs no models, and its
 * limits are sized for the mesh: libp2p's defaults (128 KiB or 2 minutes per relayed connection)
 * would cut a token stream mid-answer.
 */
import '../runtime/node20-polyfills.ts'
import { networkInterfaces } from 'node:os'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { type CircuitRelayService, circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { identify, identifyPush } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import type { NetworkConfig } from '../config/network-schema.ts'
import { MemberGate } from '../net/member-gate.ts'
import { networkIdentity } from '../net/network-identity.ts'
import { servePeerExchange } from '../net/peer-exchange.ts'
import { createRequestResponse } from '../net/request-response.ts'
import { relayAnnounceAddrs } from './announce-addrs.ts'
import { NetworkMembers } from './network-members.ts'
import { DEFAULT_STUN_PORT, type StunResponder, startStunResponder } from './stun-responder.ts'

export interface RelayLimits {
  /** Peers holding a slot at once. */
  maxReservations: number
  /** Bytes one relayed connection may carry (both ways) before the relay closes it. */
  dataLimitBytes: number
  /** How long one relayed connection may last before the relay closes it. */
  durationLimitMs: number
}

/** Sized for a mesh: a long answer streamed token by token, catch-up of a day's ops, small artifacts. */
export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  maxReservations: 512,
  dataLimitBytes: 256 * 1024 ** 2,
  durationLimitMs: 30 * 60_000,
}

export interface RelayNodeInit {
  /** The relay's identity: keep it, so the bootstrap addresses peers hold stay valid. */
  privateKey: PrivateKey
  listen: string[]
  /**
   * The public addresses to advertise (behind a port forward, say); default: the listen addresses
   * with a fixed port (a wildcard host as this machine's IPv4 addresses).
   */
  announce?: string[]
  networks: NetworkConfig[]
  limits?: Partial<RelayLimits>
  /** UDP port of the STUN responder (peers look for DEFAULT_STUN_PORT); null: none. */
  stunPort?: number | null
}

export interface RelayNode {
  readonly libp2p: Libp2p<{ relay: CircuitRelayService }>
  readonly limits: RelayLimits
  /** Dialable addresses, each ending in `/p2p/<peer id>`: the bootstrap addresses of its networks. */
  multiaddrs(): string[]
  stop(): Promise<void>
}

/** Thrown for a network a relay cannot serve. */
export class UnservableNetworkError extends Error {
  static override readonly name = 'UnservableNetworkError'
  constructor(message: string) {
    super(message)
    this.name = 'UnservableNetworkError'
  }
}

export async function startRelayNode(init: RelayNodeInit): Promise<RelayNode> {
  for (const network of init.networks) {
    if (network.libp2p === undefined)
      throw new UnservableNetworkError(
        `network "${network.name}" is not an embedded network: nothing to relay`,
      )
    // One node has one connection protector: keyed meshes stay on their LAN (or bring their own relay).
    if (network.libp2p.psk !== null)
      throw new UnservableNetworkError(
        `network "${network.name}" has a pre-shared key: a relay serves open networks`,
      )
  }
  const limits = { ...DEFAULT_RELAY_LIMITS, ...init.limits }
  const libp2p = await createLibp2p({
    // Started once every network's handlers exist, so no early peer finds the relay mute.
    start: false,
    privateKey: init.privateKey,
    addresses: {
      listen: init.listen,
      announce: init.announce ?? relayAnnounceAddrs(init.listen, machineIpv4Addresses()),
    },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      // Tells connected peers (the relay above all) of new addresses, such as a relayed one.
      identifyPush: identifyPush(),
      ping: ping(),
      relay: circuitRelayServer({
        reservations: {
          maxReservations: limits.maxReservations,
          applyDefaultLimit: true,
          defaultDataLimit: BigInt(limits.dataLimitBytes),
          defaultDurationLimit: limits.durationLimitMs,
        },
      }),
    },
  })
  const served: NetworkMembers[] = []
  let stunServer: StunResponder | undefined
  try {
    const stunPort = init.stunPort === undefined ? DEFAULT_STUN_PORT : init.stunPort
    if (stunPort !== null) stunServer = await startStunResponder('0.0.0.0', stunPort)
    for (const network of init.networks) {
      const identity = networkIdentity(network)
      const members = new NetworkMembers(libp2p, identity)
      await members.start()
      // A relay holds no chains, so it admits no members: it serves peer exchange only (open to the network).
      const rpc = createRequestResponse(libp2p, identity, members, new MemberGate())
      await servePeerExchange(libp2p, members, rpc)
      served.push(members)
    }
    await libp2p.start()
  } catch (err) {
    stunServer?.close()
    await libp2p.stop()
    throw err
  }
  return {
    libp2p,
    limits,
    multiaddrs: () => libp2p.getMultiaddrs().map((ma) => ma.toString()),
    async stop() {
      for (const members of served) await members.stop()
      stunServer?.close()
      await libp2p.stop()
    },
  }
}

function machineIpv4Addresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((addrs) => addrs ?? [])
    .filter((a) => a.family === 'IPv4' && !a.internal)
    .map((a) => a.address)
}
