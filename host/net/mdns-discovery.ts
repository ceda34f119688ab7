/**
 * LAN discovery by mDNS, scoped to one network's service name and optionally pinned to one
 * interface. Ours rather than @libp2p/mdns because that one cannot pin its multicast socket, and
 * tests and benchmarks must keep every packet on loopback (`interface: '127.0.0.1'`).
 *
 * Pinned, it hears only its interface: its socket is bound to the mDNS group rather than 0.0.0.0
 * (unicast to port 5353 on any other address never reaches it), and packets from outside the
 * interface's subnet are dropped (Linux hands a group's packets from every interface on which any
 * socket of the machine joined it to a socket bound to the group).
 *
 * Like @libp2p/mdns it only reports peers (a `peer` event); the node dials them itself.
 */
import { createSocket, type RemoteInfo } from 'node:dgram'
import type { AddressInfo } from 'node:net'
import { networkInterfaces } from 'node:os'
import type {
  ComponentLogger,
  Logger,
  PeerDiscovery,
  PeerDiscoveryEvents,
  PeerId,
  PeerInfo,
  Startable,
} from '@libp2p/interface'
import { peerDiscoverySymbol, serviceCapabilities } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { isLoopback, isPrivate } from '@libp2p/utils'
import { CODE_P2P, type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import type { Answer, StringAnswer, TxtAnswer } from 'dns-packet'
import { TypedEventEmitter } from 'main-event'
import multicastDns from 'multicast-dns'

export interface MdnsDiscoveryInit {
  /** DNS-SD service name; per network, so other networks' peers are never reported. */
  serviceTag: string
  /**
   * IPv4 address of the only interface to send and receive on. Unset: every interface (real LAN).
   * When set, nothing is ever sent unless the socket was pinned to it.
   */
  interface?: string
}

export interface MdnsDiscoveryComponents {
  peerId: PeerId
  addressManager: { getAddresses(): Multiaddr[] }
  logger: ComponentLogger
}

const MDNS_GROUP = '224.0.0.251'
const MDNS_PORT = 5353
/**
 * Longest pause between two rounds of asking: peers that start later announce themselves, so the
 * rounds only catch a lost packet. Every peer answers every round, and every peer hears every answer,
 * so the rounds cost a LAN of n peers n^2 packets; RFC 6762 5.2 lets them slow to once an hour.
 */
const MAX_QUERY_INTERVAL_MS = 60_000
/** A record is multicast at most once a second (RFC 6762 6), however many peers ask at once. */
const MIN_ANNOUNCE_INTERVAL_MS = 1000
/** The same answer from a peer, heard again within this, is not reported again. */
const REPORTED_FRESH_MS = 30_000
const RECORD_TTL_S = 120
/** A TXT record string holds at most 255 bytes (RFC 6763 6.1). */
const MAX_TXT_LENGTH = 255

export class MdnsDiscovery
  extends TypedEventEmitter<PeerDiscoveryEvents>
  implements PeerDiscovery, Startable
{
  readonly [peerDiscoverySymbol] = this
  readonly [Symbol.toStringTag] = 'ripple:mdns'
  readonly [serviceCapabilities] = ['@libp2p/peer-discovery']

  readonly #log: Logger
  readonly #instanceName: string
  #mdns?: multicastDns.MulticastDNS
  #socket?: ReturnType<typeof createSocket>
  /** True once outgoing multicast is known to leave by the requested interface only. */
  #canSend = false
  #queryTimer?: NodeJS.Timeout
  /** Pinned: whether a packet's source is on the pinned interface's subnet. */
  readonly #heard: (source: string) => boolean
  #announcedAt = 0
  /** Per instance, the answer last reported and when: a repeat is dropped before it is parsed. */
  readonly #reported = new Map<string, { answer: string; at: number }>()

  readonly #components: MdnsDiscoveryComponents
  readonly #init: MdnsDiscoveryInit

  constructor(components: MdnsDiscoveryComponents, init: MdnsDiscoveryInit) {
    super()
    this.#components = components
    this.#init = init
    this.#log = components.logger.forComponent('ripple:mdns')
    // A PeerId (52 chars) fits a DNS label (63) and lets us recognise our own answers.
    this.#instanceName = components.peerId.toString()
    this.#heard = init.interface === undefined ? () => true : onSubnetOf(init.interface)
  }

  /** Where the socket listens (undefined unless started). */
  listeningOn(): AddressInfo | undefined {
    return this.#socket?.address()
  }

  async start(): Promise<void> {
    const pinned = this.#init.interface
    const socket = createSocket({ type: 'udp4', reuseAddr: true })
    // Registered before multicast-dns adds its own listener, so the interface is pinned before
    // anything is sent; multicast-dns only pins it when joining the group succeeded.
    socket.once('listening', () => {
      if (pinned === undefined) {
        this.#canSend = true
        return
      }
      try {
        socket.setMulticastInterface(pinned)
        this.#canSend = true
      } catch (err) {
        this.#log.error('cannot pin mDNS to %s, not sending - %e', pinned, err)
      }
    })
    const mdns = multicastDns({
      socket,
      port: MDNS_PORT,
      ip: MDNS_GROUP,
      interface: pinned,
      // Linux delivers multicast only to sockets bound to the wildcard or the group address: pinned,
      // the group (see the top of this file); the interface limits group memberships and sends.
      bind: pinned === undefined ? '0.0.0.0' : MDNS_GROUP,
    })
    this.#mdns = mdns
    this.#socket = socket
    mdns.on('query', (query, from: RemoteInfo) => {
      if (this.#heard(from.address)) this.#onQuery(query.questions)
    })
    mdns.on('response', (response, from: RemoteInfo) => {
      if (this.#heard(from.address)) this.#onResponse([...response.answers, ...response.additionals])
    })
    mdns.on('warning', (err: Error) => this.#log('mDNS warning - %e', err))
    // A node without mDNS still works with explicit peers, so a busy port is logged, not thrown.
    mdns.on('error', (err: Error) => {
      this.#canSend = false
      this.#log.error('mDNS unavailable - %e', err)
    })
    await new Promise<void>((resolve) => {
      mdns.once('ready', resolve)
      mdns.once('error', () => resolve())
    })
  }

  /**
   * Addresses exist only once the transports listen, after every component's start(). As RFC 6762
   * 5.2 asks, the first round waits 20-120 ms (by then the node listens for our reports) and the
   * next ones come at growing intervals up to MAX_QUERY_INTERVAL_MS.
   */
  afterStart(): void {
    this.#scheduleRound(20 + Math.random() * 100, 1_000)
  }

  async stop(): Promise<void> {
    clearTimeout(this.#queryTimer)
    this.#canSend = false
    // Restarted, it has dropped its connections: the peers it heard before are news again (kept, a
    // peer it heard before its stop went unreported for 30 s, and only the other side's dial joined them).
    this.#reported.clear()
    const mdns = this.#mdns
    this.#mdns = undefined
    this.#socket = undefined
    if (mdns !== undefined) await new Promise<void>((resolve) => mdns.destroy(() => resolve()))
  }

  /** Announce ourselves (peers that were there first learn of us) and ask who else is there. */
  #scheduleRound(delayMs: number, nextDelayMs: number): void {
    this.#queryTimer = setTimeout(() => {
      this.#announce()
      if (this.#canSend) this.#mdns?.query({ questions: [{ name: this.#init.serviceTag, type: 'PTR' }] })
      this.#scheduleRound(nextDelayMs, Math.min(nextDelayMs * 2, MAX_QUERY_INTERVAL_MS))
    }, delayMs)
  }

  #onQuery(questions: { name: string }[]): void {
    if (questions.some((q) => q.name === this.#init.serviceTag)) this.#announce()
  }

  /** Answers are multicast, so every peer on the link learns about us, not only the one asking. */
  #announce(): void {
    if (!this.#canSend || this.#mdns === undefined) return
    const now = Date.now()
    if (now - this.#announcedAt < MIN_ANNOUNCE_INTERVAL_MS) return
    this.#announcedAt = now
    const serviceTag = this.#init.serviceTag
    const instance = `${this.#instanceName}.${serviceTag}`
    const txt: Answer[] = this.#advertisedAddresses()
      .map((addr) => `dnsaddr=${addr.toString()}`)
      .filter((data) => data.length <= MAX_TXT_LENGTH)
      .map((data) => ({ name: instance, type: 'TXT', class: 'IN', ttl: RECORD_TTL_S, data }))
    if (txt.length === 0) return
    this.#mdns.respond([
      { name: serviceTag, type: 'PTR', class: 'IN', ttl: RECORD_TTL_S, data: instance },
      ...txt,
    ])
  }

  /** A loopback-pinned node advertises loopback addresses only; on a LAN, private ones. */
  #advertisedAddresses(): Multiaddr[] {
    const loopbackOnly = this.#init.interface?.startsWith('127.') ?? false
    return this.#components.addressManager
      .getAddresses()
      .filter((addr) => (loopbackOnly ? isLoopback(addr) : isPrivate(addr)))
      .filter((addr) => addr.getComponents().some((c) => c.code === CODE_P2P))
  }

  #onResponse(records: Answer[]): void {
    const serviceTag = this.#init.serviceTag
    const ptr = records.find((r): r is StringAnswer => r.type === 'PTR' && r.name === serviceTag)
    if (ptr === undefined) return
    const instance = ptr.data
    if (instance.startsWith(this.#instanceName)) return
    const txt = records.filter((r): r is TxtAnswer => r.type === 'TXT' && r.name === instance)
    // Every peer hears every answer: one it reported moments ago costs a string compare, not a parse
    // and a peer-store update.
    const answer = txt.map((r) => String(r.data)).join('\n')
    const now = Date.now()
    const last = this.#reported.get(instance)
    if (last !== undefined && last.answer === answer && now - last.at < REPORTED_FRESH_MS) return
    const peer = this.#parsePeer(instance, txt)
    if (peer === undefined) return
    // Bounded: a LAN's peers come and go; an answer older than the window is as good as unheard.
    if (this.#reported.size >= 1024)
      for (const [name, heard] of this.#reported)
        if (now - heard.at >= REPORTED_FRESH_MS) this.#reported.delete(name)
    this.#reported.set(instance, { answer, at: now })
    this.safeDispatchEvent('peer', { detail: peer })
  }

  #parsePeer(instance: string, txt: TxtAnswer[]): PeerInfo | undefined {
    try {
      const addrs = txt
        .flatMap((r) => (Array.isArray(r.data) ? r.data : [r.data]))
        .map((d) => d.toString())
        .filter((d) => d.startsWith('dnsaddr='))
        .map((d) => multiaddr(d.slice('dnsaddr='.length)))
      const peerIdText = addrs[0]?.getComponents().findLast((c) => c.code === CODE_P2P)?.value
      // The instance name must be the advertised PeerId, else one peer could advertise another.
      if (peerIdText === undefined || !instance.startsWith(`${peerIdText}.`)) return undefined
      return { id: peerIdFromString(peerIdText), multiaddrs: addrs.map((a) => a.decapsulateCode(CODE_P2P)) }
    } catch (err) {
      this.#log('ignoring malformed mDNS answer - %e', err)
      return undefined
    }
  }
}

/** Whether an IPv4 source is on the subnet of the local interface `address` (only itself if unknown). */
function onSubnetOf(address: string): (source: string) => boolean {
  const local = Object.values(networkInterfaces())
    .flat()
    .find((a) => a?.family === 'IPv4' && a.address === address)
  const bits = local?.cidr ? Number(local.cidr.split('/')[1]) : 32
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0
  const subnet = (n: number) => (n & mask) >>> 0
  const ours = subnet(ipv4Number(address) ?? 0)
  return (source) => {
    const n = ipv4Number(source)
    return n !== undefined && subnet(n) === ours
  }
}

function ipv4Number(address: string): number | undefined {
  const parts = address.split('.').map(Number)
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined
  return parts.reduce((n, p) => n * 256 + p, 0)
}

export function mdnsDiscovery(
  init: MdnsDiscoveryInit,
): (components: MdnsDiscoveryComponents) => MdnsDiscovery {
  return (components) => new MdnsDiscovery(components, init)
}
