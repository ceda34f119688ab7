import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import type { RippleNode } from '../../../host/net/create-node.ts'
import { decodePeerList, encodePeerList, peerListFor } from '../../../host/net/peer-exchange.ts'
import { connectedTo, loopbackNode, stopAll, testNetwork, waitFor } from './net-fixtures.ts'

describe('peer exchange and remembered peers (mDNS off)', () => {
  const nodes: RippleNode[] = []
  const dirs: string[] = []
  afterEach(async () => {
    await stopAll(nodes.splice(0))
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })

  it('finds peers beyond its bootstrap node, through the peers it verified', async () => {
    const network = testNetwork()
    const hub = await loopbackNode({ network })
    nodes.push(hub)
    const bootstrap = hub.multiaddrs().map(String)
    const first = await loopbackNode({ network, peers: bootstrap })
    nodes.push(first)
    await waitFor('first to reach the hub', () => connectedTo(first, [hub]))
    // Only the hub is named: the newcomer learns of `first` from it.
    const newcomer = await loopbackNode({ network, peers: bootstrap, peerExchangeIntervalMs: 500 })
    nodes.push(newcomer)
    await waitFor('the newcomer to verify first', () => connectedTo(newcomer, [hub, first]), 15_000)
  })

  it('redials the peers it met when it starts again, with its bootstrap node gone', async () => {
    const network = testNetwork()
    const hub = await loopbackNode({ network })
    const other = await loopbackNode({ network, peers: hub.multiaddrs().map(String) })
    nodes.push(other)
    const bootstrap = hub.multiaddrs().map(String)
    const dir = await mkdtemp(join(tmpdir(), 'ripple-peer-store-'))
    dirs.push(dir)
    const privateKey = await generateKeyPair('Ed25519')
    const start = () =>
      loopbackNode({ network, privateKey, peers: bootstrap, peerStoreDir: dir, peerExchangeIntervalMs: 500 })
    const first = await start()
    await waitFor('first to meet other through the hub', () => connectedTo(first, [hub, other]), 15_000)
    await Promise.all([first.stop(), hub.stop()])
    await waitFor('other to see first go', () => !other.peers.has(first.peerId))

    const again = await start()
    nodes.push(again)
    await waitFor('the remembered peer to be redialled', () => connectedTo(again, [other]), 15_000)
    expect(again.peers.has(hub.peerId)).toBe(false)
  })

  it('reads back what it sends, and refuses an oversized or malformed list', () => {
    const list = { peers: [{ id: '12D3KooWabc', addrs: ['/ip4/11.0.0.1/tcp/4001'] }] }
    expect(decodePeerList(encodePeerList(list))).toEqual(list)
    const many = { peers: Array.from({ length: 65 }, () => list.peers[0]!) }
    expect(() => decodePeerList(encodePeerList(many))).toThrow()
    expect(() => decodePeerList(new TextEncoder().encode('{"peers":[{"id":1}]}'))).toThrow()
  })

  it('names its peers in a random order, so newcomers do not all dial the oldest ones', async () => {
    const ids = await Promise.all(
      Array.from({ length: 30 }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))),
    )
    const [asker, ...peers] = ids as [PeerId, ...PeerId[]]
    const addresses = [{ multiaddr: multiaddr('/ip4/127.0.0.1/tcp/4001') }]
    const libp2p = { peerStore: { get: async () => ({ addresses }) } } as unknown as Libp2p
    const firsts = new Set<string>()
    for (let i = 0; i < 20; i++) {
      const list = await peerListFor(libp2p, [asker, ...peers], asker)
      // Every other peer named once, the asker not at all.
      expect(new Set(list.peers.map((p) => p.id))).toEqual(new Set(peers.map(String)))
      firsts.add(list.peers[0]!.id)
    }
    // The same first peer 20 times out of 29 in a random order: about 1 in 10^29.
    expect(firsts.size).toBeGreaterThan(1)
  })
})
