/**
 * Bounded connections with real nodes (memory transport). The cap is scaled down so few nodes show
 * both sides of it: a mesh within the neighbour target is fully connected, a larger one is not, and
 * each peer holds at most its cap while gossip still reaches every peer.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { RippleNode } from '../../../host/net/create-node.ts'
import { memoryNode, withMaxConnections } from './memory-fixtures.ts'
import { stopAll, testNetwork, waitFor } from './net-fixtures.ts'

/** `count` nodes, each told of one earlier node only (its bootstrap peer). */
async function mesh(count: number, maxConnections: number): Promise<RippleNode[]> {
  const network = withMaxConnections(testNetwork(), maxConnections)
  const nodes: RippleNode[] = []
  for (let i = 0; i < count; i++) {
    const bootstrap = i === 0 ? [] : nodes[Math.floor(Math.random() * i)]!.multiaddrs().map(String)
    nodes.push(await memoryNode({ network, peers: bootstrap, peerExchangeIntervalMs: 500 }))
  }
  return nodes
}

function inboxes(nodes: RippleNode[]): number[] {
  const heard = nodes.map(() => 0)
  nodes.forEach((node, i) => {
    node.pubsub.addEventListener('signal', (evt) => {
      heard[i]!++
      evt.detail.verdict('accept')
    })
  })
  return heard
}

const peersConnected = (node: RippleNode) =>
  new Set(node.libp2p.getConnections().map((c) => c.remotePeer.toString())).size

describe('bounded connections', () => {
  const nodes: RippleNode[] = []
  afterEach(async () => {
    await stopAll(nodes.splice(0))
  })

  it('a mesh no larger than the neighbour target is fully connected, as a team mesh is at the default cap', async () => {
    // Cap 14: a target of 7 neighbours, so 8 peers (7 others each) all meet.
    nodes.push(...(await mesh(8, 14)))
    await waitFor(
      'every peer to verify every other',
      () => nodes.every((n) => n.peers.list().length === 7),
      60_000,
    )
    const heard = inboxes(nodes)
    await nodes[3]!.pubsub.publish('signals', new Uint8Array([1]))
    await waitFor('every other peer to hear it', () => heard.filter((h) => h > 0).length === 7)
  }, 90_000)

  it('24 peers with a cap of 16 hold 16 connections at most, and gossip still reaches them all', async () => {
    nodes.push(...(await mesh(24, 16)))
    await waitFor(
      'every peer to reach its neighbour target',
      () => nodes.every((n) => n.peers.list().length >= 4),
      90_000,
    )
    // Pruning follows a new connection: the fewest of three looks, a moment apart.
    const samples: number[][] = []
    for (let i = 0; i < 3; i++) {
      samples.push(nodes.map(peersConnected))
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const held = nodes.map((_, i) => Math.min(...samples.map((s) => s[i]!)))
    expect(Math.max(...held)).toBeLessThanOrEqual(16)
    // Not every peer with every other: the target stopped the dialling.
    expect(Math.min(...held)).toBeLessThan(23)
    const heard = inboxes(nodes)
    await nodes[0]!.pubsub.publish('signals', new Uint8Array([1]))
    await waitFor('all 23 others to hear it', () => heard.filter((h) => h > 0).length === 23, 30_000)
  }, 180_000)
})
