/**
 * A peer's gossip mesh stays near D whatever the number of peers it is connected to (issue 56): a peer
 * forwards every message to its mesh, so a mesh that filled with its connections made an idle peer's
 * gossip grow with the mesh. Ten gossipsub nodes with Ripple's options, each connected to all the
 * others over libp2p's in-memory transport: with the spec's Dhi of 12 every mesh held all nine.
 */

import { yamux } from '@chainsafe/libp2p-yamux'
import { type GossipSub, gossipsub, TopicValidatorResult } from '@libp2p/gossipsub'
import { type Identify, identify } from '@libp2p/identify'
import { memory } from '@libp2p/memory'
import { plaintext } from '@libp2p/plaintext'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gossipOptions } from '../../../host/net/gossip-options.ts'
import type { GossipSubClass } from '../../../host/net/pubsub.ts'
import { waitFor } from './net-fixtures.ts'

const PEERS = 10
const TOPIC = 'mesh-degree'

type Node = Libp2p<{ pubsub: GossipSub; identify: Identify }>
/** The class's own calls (mesh peers, a validation's verdict), as pubsub.ts reaches them. */
const gossip = (node: Node) => node.services.pubsub as GossipSubClass

describe('a gossip mesh among ten connected peers', () => {
  const options = gossipOptions(4)
  let nodes: Node[] = []

  beforeAll(async () => {
    nodes = await Promise.all(
      Array.from({ length: PEERS }, () =>
        createLibp2p({
          addresses: { listen: [`/memory/${crypto.randomUUID()}`] },
          transports: [memory()],
          connectionEncrypters: [plaintext()],
          streamMuxers: [yamux()],
          services: { identify: identify(), pubsub: gossipsub(options) },
        }),
      ),
    )
    for (const [i, node] of nodes.entries()) {
      for (const other of nodes.slice(i + 1)) await node.dial(other.getMultiaddrs())
      node.services.pubsub.subscribe(TOPIC)
    }
    // Every peer knows every other's subscription, then a few heartbeats settle the meshes.
    await waitFor('every subscription to be known', () =>
      nodes.every((n) => n.services.pubsub.getSubscribers(TOPIC).length === PEERS - 1),
    )
    await new Promise((r) => setTimeout(r, 6 * options.heartbeatInterval!))
  })
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
  })

  it('holds between Dlo and Dhi peers, not all nine, and still reaches every peer', async () => {
    const sizes = nodes.map((n) => gossip(n).getMeshPeers(TOPIC).length)
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(options.Dlo!)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(options.Dhi!)
    expect(Math.max(...sizes)).toBeLessThan(PEERS - 1)
    const heard = new Set<string>()
    for (const node of nodes.slice(1)) {
      // Ripple validates asynchronously (gossipOptions): a peer passes on only what it accepted.
      node.services.pubsub.addEventListener('gossipsub:message', ({ detail }) => {
        heard.add(node.peerId.toString())
        gossip(node).reportMessageValidationResult(
          detail.msgId,
          detail.propagationSource.toString(),
          TopicValidatorResult.Accept,
        )
      })
    }
    await nodes[0]!.services.pubsub.publish(TOPIC, new TextEncoder().encode('to all'))
    await waitFor('every peer to hear it', () => heard.size === PEERS - 1)
  })
})
