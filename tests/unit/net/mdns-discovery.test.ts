import { createSocket } from 'node:dgram'
import { networkInterfaces } from 'node:os'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import dnsPacket from 'dns-packet'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RippleNode } from '../../../host/net/create-node.ts'
import { type MdnsDiscovery, mdnsDiscovery } from '../../../host/net/mdns-discovery.ts'
import { connectedTo, loopbackNode, stopAll, testNetwork, waitFor } from './net-fixtures.ts'

describe('mDNS discovery pinned to 127.0.0.1', () => {
  const nodes: RippleNode[] = []
  afterEach(async () => {
    await stopAll(nodes.splice(0))
  })

  it('three nodes find each other and connect', async () => {
    const network = testNetwork({ mdns: true })
    nodes.push(...(await Promise.all([1, 2, 3].map(() => loopbackNode({ network })))))
    await waitFor('every node to verify the other two', () =>
      nodes.every((n) =>
        connectedTo(
          n,
          nodes.filter((o) => o !== n),
        ),
      ),
    )
    for (const node of nodes) {
      for (const conn of node.libp2p.getConnections())
        expect(conn.remoteAddr.toString()).toMatch(/^\/ip4\/127\./)
    }
  })

  it('reports only peers of the same network', async () => {
    const ours = testNetwork({ mdns: true })
    const theirs = { ...ours, seed: `${ours.seed}-other` }
    const [a, b, stranger] = await Promise.all([
      loopbackNode({ network: ours }),
      loopbackNode({ network: ours }),
      loopbackNode({ network: theirs }),
    ])
    nodes.push(a!, b!, stranger!)
    await waitFor('a and b to connect', () => a!.peers.has(b!.peerId) && b!.peers.has(a!.peerId))
    // Long enough for several query/answer rounds.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(stranger!.libp2p.getConnections()).toHaveLength(0)
    expect(a!.peers.has(stranger!.peerId)).toBe(false)
  })

  it('a peer that restarts is found again', async () => {
    const network = testNetwork({ mdns: true })
    const a = await loopbackNode({ network })
    const b = await loopbackNode({ network })
    nodes.push(a, b)
    await waitFor('first connection', () => a.peers.has(b.peerId))
    await b.stop()
    await waitFor('a to notice b left', () => !a.peers.has(b.peerId))
    const key = b.libp2p.peerId
    await b.start()
    await waitFor('b found again', () => a.peers.has(key) && b.peers.has(a.peerId))
  })
})

describe('mDNS pinned to an interface hears only it', () => {
  const serviceTag = `_ripple-pin-${process.pid}-${Date.now()}._udp.local`
  let discovery: MdnsDiscovery
  const reported: string[] = []
  beforeAll(async () => {
    const components = {
      peerId: peerIdFromPrivateKey(await generateKeyPair('Ed25519')),
      addressManager: { getAddresses: () => [] },
      logger: defaultLogger(),
    }
    discovery = mdnsDiscovery({ serviceTag, interface: '127.0.0.1' })(components)
    discovery.addEventListener('peer', (event) => reported.push(event.detail.id.toString()))
    await discovery.start()
  })
  afterAll(() => discovery.stop())

  /** Multicasts an answer advertising a made-up peer (or `peer` again), out by loopback, from `source`. */
  async function advertiseFrom(source: string, port = 4001, again?: string): Promise<string> {
    const peer = again ?? peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const instance = `${peer}.${serviceTag}`
    const packet = dnsPacket.encode({
      type: 'response',
      answers: [
        { name: serviceTag, type: 'PTR', class: 'IN', ttl: 120, data: instance },
        {
          name: instance,
          type: 'TXT',
          class: 'IN',
          ttl: 120,
          data: `dnsaddr=/ip4/127.0.0.1/tcp/${port}/p2p/${peer}`,
        },
      ],
    })
    const socket = createSocket('udp4')
    await new Promise<void>((resolve) => socket.bind(0, source, resolve))
    socket.setMulticastInterface('127.0.0.1')
    await new Promise((resolve) => socket.send(packet, 5353, '224.0.0.251', resolve))
    socket.close()
    return peer
  }

  it('binds its socket to the mDNS group, not 0.0.0.0 (unicast to port 5353 on any address never reaches it)', () => {
    expect(discovery.listeningOn()).toMatchObject({ address: '224.0.0.251', port: 5353 })
  })

  // Another address of this machine, off the pinned interface's subnet: a LAN sender stand-in.
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((a) => a?.family === 'IPv4' && !a.internal)?.address
  it.skipIf(lan === undefined)(
    'ignores a packet from outside the interface subnet, not one from it',
    async () => {
      const stranger = await advertiseFrom(lan!)
      const neighbour = await advertiseFrom('127.0.0.1')
      await waitFor('the loopback answer', () => reported.includes(neighbour))
      expect(reported).not.toContain(stranger)
    },
  )

  it('reports an answer it heard moments ago once (every peer hears every answer), a changed one again', async () => {
    const peer = await advertiseFrom('127.0.0.1', 4101)
    await waitFor('the first answer', () => reported.includes(peer))
    for (let i = 0; i < 3; i++) await advertiseFrom('127.0.0.1', 4101, peer)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(reported.filter((p) => p === peer)).toHaveLength(1)
    // The peer restarted on another port: that is news.
    await advertiseFrom('127.0.0.1', 4102, peer)
    await waitFor('the changed answer', () => reported.filter((p) => p === peer).length === 2)
  })

  it('once restarted, reports again a peer it heard just before its stop (its connections are gone)', async () => {
    const peer = await advertiseFrom('127.0.0.1', 4201)
    await waitFor('the first answer', () => reported.includes(peer))
    await discovery.stop()
    await discovery.start()
    await advertiseFrom('127.0.0.1', 4201, peer)
    await waitFor('the same answer after the restart', () => reported.filter((p) => p === peer).length === 2)
  })
})
