import { afterEach, describe, expect, it } from 'vitest'
import type { RippleNode } from '../../../host/net/create-node.ts'
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
