import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RippleNode } from '../../../host/net/create-node.ts'
import { RequestRefusedError } from '../../../host/net/errors.ts'
import type { GossipChannel, GossipMessage, GossipVerdict } from '../../../host/net/pubsub.ts'
import { connectedTo, loopbackNode, star, stopAll, testNetwork, waitFor } from './net-fixtures.ts'

/** Collects what a node receives on one channel, accepting each message (so it is passed on). */
function inbox(node: RippleNode, channel: GossipChannel): GossipMessage[] {
  const received: GossipMessage[] = []
  node.pubsub.addEventListener(channel === 'ops' ? 'op' : 'signal', (evt) => {
    received.push(evt.detail)
    evt.detail.verdict('accept')
  })
  return received
}

describe('gossip on the network topics', () => {
  const network = testNetwork()
  let nodes: RippleNode[] = []
  let stranger: RippleNode
  /** Peers the stranger failed the handshake with. */
  const rejected: string[] = []

  beforeAll(async () => {
    nodes = await star(network, 3)
    const hub = nodes[0]!
    // Same name, other seed: another network. It dials the hub itself.
    stranger = await loopbackNode({
      network: { ...network, seed: `${network.seed}-other` },
      peers: hub.multiaddrs().map(String),
      start: false,
    })
    stranger.peers.addEventListener('peer:rejected', (evt) => rejected.push(evt.detail.peer.toString()))
    await stranger.start()
    for (const node of [...nodes, stranger]) {
      await node.rpc.handle('echo/1.0.0', async (req) => req)
    }
    await waitFor('the star to form', () => connectedTo(hub, nodes.slice(1)))
    // Kept a star (peer exchange would connect the leaves): what one leaf publishes reaches the
    // other only through the hub.
    const [left, right] = nodes.slice(1) as [RippleNode, RippleNode]
    await left.deny(right.peerId)
    await right.deny(left.peerId)
    // A relay forwards to its mesh only: publishing before the meshes form could lose the op
    // (anti-entropy's job, not gossip's).
    await waitFor('the gossip meshes to form', () =>
      nodes.every(
        (n) =>
          n.pubsub.meshSize('ops') === (n === hub ? 2 : 1) &&
          n.pubsub.meshSize('signals') === (n === hub ? 2 : 1),
      ),
    )
  })
  afterAll(async () => {
    await stopAll([...nodes, stranger])
  })

  // First: the inboxes of later tests accept everything they receive, for as long as the suite runs.
  it('a message the hub rejects, ignores or leaves without a verdict goes no further', async () => {
    const [hub, left, right] = nodes as [RippleNode, RippleNode, RippleNode]
    const hubBox: GossipMessage[] = []
    const verdicts: (GossipVerdict | null)[] = ['reject', null, 'ignore']
    const listener = (evt: CustomEvent<GossipMessage>) => {
      const verdict = verdicts[hubBox.length]
      hubBox.push(evt.detail)
      if (verdict) evt.detail.verdict(verdict)
    }
    hub.pubsub.addEventListener('op', listener)
    const rightBox = inbox(right, 'ops')
    for (const text of ['rejected', 'no verdict', 'ignored'])
      await left.pubsub.publish('ops', new TextEncoder().encode(text))
    await waitFor('the hub to receive all three', () => hubBox.length === 3)
    await new Promise((resolve) => setTimeout(resolve, 500))
    hub.pubsub.removeEventListener('op', listener)
    expect(rightBox).toHaveLength(0)
  })

  it('an op published on one node reaches the other two, passed on by the hub that accepted it', async () => {
    const [hub, left, right] = nodes as [RippleNode, RippleNode, RippleNode]
    const boxes = [hub, right].map((n) => inbox(n, 'ops'))
    const strangerBox = inbox(stranger, 'ops')
    await left.pubsub.publish('ops', new TextEncoder().encode('op from the left leaf'))
    await waitFor('both to receive the op', () => boxes.every((b) => b.length === 1))
    for (const box of boxes) expect(new TextDecoder().decode(box[0]!.data)).toBe('op from the left leaf')
    // Each names the peer that delivered it.
    expect(boxes[0]![0]!.from.equals(left.peerId)).toBe(true)
    expect(boxes[1]![0]!.from.equals(hub.peerId)).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(strangerBox).toHaveLength(0)
  })

  it('signals travel on their own topic', async () => {
    const [hub, left, right] = nodes as [RippleNode, RippleNode, RippleNode]
    const ops = [left, right].map((n) => inbox(n, 'ops'))
    const signals = [left, right].map((n) => inbox(n, 'signals'))
    expect(hub.pubsub.subscribers('signals')).toHaveLength(2)
    await hub.pubsub.publish('signals', new Uint8Array([1, 2, 3]))
    await waitFor('both to receive the signal', () => signals.every((b) => b.length === 1))
    expect(ops.every((b) => b.length === 0)).toBe(true)
  })

  it('a node on another network is rejected and never receives ops', async () => {
    const hub = nodes[0]!
    await waitFor('the stranger to fail its handshake with the hub', () =>
      rejected.includes(hub.peerId.toString()),
    )
    expect(hub.peers.has(stranger.peerId)).toBe(false)
    expect(stranger.peers.list()).toHaveLength(0)
    const strangerBox = inbox(stranger, 'ops')
    for (let i = 0; i < 5; i++) await hub.pubsub.publish('ops', new Uint8Array([i]))
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(strangerBox).toHaveLength(0)
  })

  it('a node on another network has its requests refused, and refuses ours', async () => {
    const hub = nodes[0]!
    await expect(stranger.rpc.request(hub.peerId, 'echo/1.0.0', new Uint8Array([1]))).rejects.toBeInstanceOf(
      RequestRefusedError,
    )
    await expect(hub.rpc.request(stranger.peerId, 'echo/1.0.0', new Uint8Array([1]))).rejects.toBeInstanceOf(
      RequestRefusedError,
    )
  })
})

describe('gossip among many peers on one address', () => {
  // No loopback tuning: 16 peers on 127.0.0.1 stand for a team behind one NAT, or peers reached
  // through one relay, whose connections all come from one IP.
  const network = testNetwork()
  let nodes: RippleNode[] = []

  beforeAll(async () => {
    const hub = await loopbackNode({ network, loopbackTuning: false })
    const at = hub.multiaddrs().map(String)
    // A few at a time: libp2p takes 5 inbound connections a second from one host.
    for (let i = 0; i < 15; i += 5)
      nodes.push(
        ...(await Promise.all(
          Array.from({ length: 5 }, () => loopbackNode({ network, loopbackTuning: false, peers: at })),
        )),
      )
    nodes = [hub, ...nodes]
    await waitFor('every peer to reach the hub', () => connectedTo(hub, nodes.slice(1)), 30_000)
  }, 60_000)
  afterAll(() => stopAll(nodes))

  it('reach each other: gossipsub does not score them down for sharing it', async () => {
    const [hub, ...leaves] = nodes as [RippleNode, ...RippleNode[]]
    const boxes = leaves.map((leaf) => inbox(leaf, 'signals'))
    const hubBox = inbox(hub, 'signals')
    // Scores are recomputed at gossipsub's heartbeat (1 s): a penalty would have landed by now.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    await hub.pubsub.publish('signals', new Uint8Array([1]))
    await leaves[14]!.pubsub.publish('signals', new Uint8Array([2]))
    await waitFor('every leaf to hear the hub', () => boxes.every((box) => box.length > 0), 10_000)
    await waitFor('the hub to hear a leaf', () => hubBox.length > 0, 10_000)
    expect(boxes.map((box) => box.some((m) => m.data[0] === 1))).toEqual(leaves.map(() => true))
  }, 30_000)
})
