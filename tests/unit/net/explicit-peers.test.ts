import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, describe, expect, it } from 'vitest'
import type { RippleNode } from '../../../host/net/create-node.ts'
import { connectedTo, loopbackNode, stopAll, testNetwork, waitFor } from './net-fixtures.ts'

describe('explicit peers (--peer) with mDNS off', () => {
  const nodes: RippleNode[] = []
  afterEach(async () => {
    await stopAll(nodes.splice(0))
  })

  it('dials the given multiaddrs at start', async () => {
    const network = testNetwork({ mdns: false })
    const hub = await loopbackNode({ network })
    nodes.push(hub)
    const addrs = hub.multiaddrs().map(String)
    expect(addrs.every((a) => a.startsWith('/ip4/127.0.0.1/tcp/'))).toBe(true)
    const leaves = await Promise.all([1, 2].map(() => loopbackNode({ network, peers: addrs })))
    nodes.push(...leaves)
    await waitFor(
      'the hub and both leaves to verify each other',
      () => connectedTo(hub, leaves) && leaves.every((l) => connectedTo(l, [hub])),
    )
  })

  it('takes peers from the network bootstrap list too', async () => {
    const network = testNetwork({ mdns: false })
    const hub = await loopbackNode({ network })
    nodes.push(hub)
    const leaf = await loopbackNode({
      network: { ...network, libp2p: { ...network.libp2p!, bootstrap: hub.multiaddrs().map(String) } },
    })
    nodes.push(leaf)
    await waitFor('bootstrap connection', () => connectedTo(leaf, [hub]))
  })

  it('keeps retrying a peer that is not up yet, and reconnects after it restarts', async () => {
    const network = testNetwork({ mdns: false })
    const privateKey = await generateKeyPair('Ed25519')
    // Learn a free port and the address the late peer will have, then take it down.
    const probe = await loopbackNode({ network, privateKey })
    const addr = probe.multiaddrs()[0]!.toString()
    await probe.stop()

    const dialler = await loopbackNode({ network, peers: [addr] })
    nodes.push(dialler)
    await new Promise((resolve) => setTimeout(resolve, 600))
    expect(dialler.peers.list()).toHaveLength(0)

    const listen = [addr.replace(/\/p2p\/.*$/, '')]
    const late = await loopbackNode({ network, privateKey, listen })
    nodes.push(late)
    await waitFor('the late peer to be dialled', () => connectedTo(dialler, [late]))

    await late.stop()
    await waitFor('the disconnect', () => !dialler.peers.has(late.peerId))
    await late.start()
    await waitFor('the reconnect', () => connectedTo(dialler, [late]), 15_000)
  })
})
