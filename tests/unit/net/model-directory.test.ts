import { afterEach, describe, expect, it } from 'vitest'
import type { RippleNode } from '../../../host/net/create-node.ts'
import { eventually, memoryNode, withMaxConnections } from './memory-fixtures.ts'
import { stopAll, testNetwork, waitFor } from './net-fixtures.ts'

const FAST = { cacheMs: 0, findTimeoutMs: 3_000 }

describe('the model directory (kad-dht, members only)', () => {
  const nodes: RippleNode[] = []
  afterEach(async () => {
    await stopAll(nodes.splice(0))
  })

  it('a requester that never met the runner finds it through the others', async () => {
    // Cap 4: one neighbour is enough, so neither asks the middle for more peers (which would name the
    // other with its addresses).
    const network = withMaxConnections(testNetwork(), 4)
    const runner = await memoryNode({ network, directory: FAST })
    nodes.push(runner)
    // Advertised while alone: the record is the runner's only, no other peer holds it yet.
    runner.directory.advertise('llama-3-8b')
    let last = runner
    for (let i = 0; i < 3; i++) {
      const next = await memoryNode({ network, peers: last.multiaddrs().map(String), directory: FAST })
      nodes.push(next)
      last = next
    }
    await waitFor('the line to connect', () => nodes.every((n) => n.peers.list().length >= 1))
    const requester = last
    const lookup = await eventually(
      'the requester to find the runner',
      () => requester.directory.lookup('llama-3-8b'),
      (l) => l.runners.length > 0,
    )
    expect(lookup.runners.map(String)).toEqual([runner.peerId.toString()])
    expect(lookup.queries).toBeGreaterThan(0)
    expect(requester.directory.stats().routingTable).toBeGreaterThan(0)
  })

  it('an advert made alone is sent again once the runner has a peer, not at its renewal minutes later', async () => {
    // A runner advertises as it starts, before it knows any peer: the record was its own only, and no
    // other peer held it until kad-dht renewed it (readvertiseMs, minutes on a real network).
    const timings = { ...FAST, readvertiseMs: 600_000, validityMs: 1_200_000, advertRetryMs: 200 }
    const network = testNetwork()
    const runner = await memoryNode({ network, directory: timings })
    nodes.push(runner)
    runner.directory.advertise('llama-3-8b')
    expect(runner.directory.stats().routingTable).toBe(0)
    const other = await memoryNode({ network, peers: runner.multiaddrs().map(String), directory: timings })
    nodes.push(other)
    await waitFor('the peer that joined to hold the advert', () => other.directory.stats().records > 0)
  })

  it('a peer that knows a member by id alone (heard of, never met) reaches it: the directory finds its addresses', async () => {
    // Cap 4: one neighbour is enough, so neither asks the middle for more peers (which would name the
    // other with its addresses).
    const network = withMaxConnections(testNetwork(), 4)
    const middle = await memoryNode({ network, directory: FAST })
    const asker = await memoryNode({ network, peers: middle.multiaddrs().map(String), directory: FAST })
    const runner = await memoryNode({ network, peers: middle.multiaddrs().map(String), directory: FAST })
    nodes.push(middle, asker, runner)
    await waitFor(
      'both to meet the middle, the asker to hold it in its directory',
      () => middle.peers.list().length === 2 && asker.directory.stats().routingTable > 0,
    )
    await runner.rpc.handle('echo/1.0.0', async (req) => req)
    // Whatever the two learnt of each other so far (the directory's own walk) is forgotten, so neither
    // redials the other.
    await runner.libp2p.peerStore.delete(asker.peerId)
    await asker.libp2p.hangUp(runner.peerId)
    await asker.libp2p.peerStore.delete(runner.peerId)
    const answer = await asker.rpc.request(runner.peerId, 'echo/1.0.0', new Uint8Array([7]))
    expect(answer).toEqual(new Uint8Array([7]))
    expect((await asker.libp2p.peerStore.get(runner.peerId)).addresses.length).toBeGreaterThan(0)
    // One no member knows stays unreachable, with that said.
    const stranger = await memoryNode({ network: testNetwork(), directory: FAST })
    nodes.push(stranger)
    await expect(asker.rpc.request(stranger.peerId, 'echo/1.0.0', new Uint8Array([7]))).rejects.toThrow(
      /unreachable/,
    )
  })
})

describe('the directory: members only, and adverts that expire', () => {
  const nodes: RippleNode[] = []
  afterEach(async () => {
    await stopAll(nodes.splice(0))
  })

  it('answers members only: a stranger of the network finds nothing, a member connected alike finds the runner', async () => {
    const network = testNetwork()
    const stranger = await memoryNode({ network, directory: FAST })
    const strangerId = stranger.peerId.toString()
    const admit = async (peer: { toString(): string }) =>
      peer.toString() === strangerId ? 'not a member' : null
    const runner = await memoryNode({ network, admit, directory: FAST })
    const member = await memoryNode({
      network,
      admit,
      directory: FAST,
      peers: runner.multiaddrs().map(String),
    })
    nodes.push(stranger, runner, member)
    await stranger.libp2p.dial(runner.multiaddrs()[0]!)
    await waitFor('all three to meet', () => runner.peers.list().length === 2)
    runner.directory.advertise('llama-3-8b')
    const found = await eventually(
      'the member to find the runner',
      () => member.directory.find('llama-3-8b'),
      (peers) => peers.length > 0,
    )
    expect(found.map(String)).toEqual([runner.peerId.toString()])
    // The stranger asks the same peers: they reset its streams and never ask it.
    expect(await stranger.directory.find('llama-3-8b')).toEqual([])
    // Each member's table holds the other member only, not the stranger.
    expect([runner.directory.stats().routingTable, member.directory.stats().routingTable]).toEqual([1, 1])
  })

  it('drops a runner that withdrew or went away once its advert expires, and keeps one that renews', async () => {
    const network = testNetwork()
    const timings = { readvertiseMs: 600, validityMs: 1_500, cacheMs: 0, findTimeoutMs: 2_000 }
    const requester = await memoryNode({ network, directory: timings })
    nodes.push(requester)
    const at = requester.multiaddrs().map(String)
    const [stays, withdraws, dies] = await Promise.all(
      [0, 1, 2].map(() => memoryNode({ network, directory: timings, peers: at })),
    )
    nodes.push(stays!, withdraws!)
    await waitFor('the runners to connect', () => requester.peers.list().length === 3)
    for (const runner of [stays!, withdraws!, dies!]) runner.directory.advertise('qwen-2.5-7b')
    const ids = (peers: { toString(): string }[]) => peers.map(String).sort()
    await eventually(
      'all three runners to be found',
      () => requester.directory.find('qwen-2.5-7b'),
      (peers) => peers.length === 3,
    )
    withdraws!.directory.withdraw('qwen-2.5-7b')
    await dies!.stop()
    const left = await eventually(
      'the gone runners to drop out',
      () => requester.directory.find('qwen-2.5-7b'),
      (peers) => peers.length === 1,
      10_000,
    )
    expect(ids(left)).toEqual([stays!.peerId.toString()])
    expect(withdraws!.directory.advertised()).toEqual([])
    // Three advert lives later the one that renews is still there.
    await new Promise((resolve) => setTimeout(resolve, 3 * timings.validityMs))
    expect(ids(await requester.directory.find('qwen-2.5-7b'))).toEqual([stays!.peerId.toString()])
  })

  it('keeps an answer that names runners for the cache lifetime, and one naming none only until a new advert may be out', async () => {
    // A far requester asked before the runner started: the empty answer, kept the whole cacheMs, hid the
    // new runner that long (10 s on a real network; the simulation's "new runner found" at 1,000 peers).
    const timings = { cacheMs: 60_000, findTimeoutMs: 2_000, advertRetryMs: 300 }
    const network = testNetwork()
    const requester = await memoryNode({ network, directory: timings })
    const runner = await memoryNode({
      network,
      directory: timings,
      peers: requester.multiaddrs().map(String),
    })
    nodes.push(requester, runner)
    await waitFor('the two to meet', () => requester.peers.list().length === 1)
    // Asked once the runner is in the requester's routing table (a moment after they meet, under load).
    const before = await eventually(
      'a lookup that asks the runner',
      () => requester.directory.lookup('qwen-2.5-7b'),
      (l) => l.queries > 0,
      5_000,
    )
    expect(before.runners).toEqual([])
    runner.directory.advertise('qwen-2.5-7b')
    const found = await eventually(
      'the requester to find the runner that started after it asked',
      () => requester.directory.lookup('qwen-2.5-7b'),
      (l) => l.runners.length === 1,
      5_000,
    )
    expect(found.runners.map(String)).toEqual([runner.peerId.toString()])
    // Named runners are reused: no query goes out for the same model within cacheMs, even once withdrawn.
    runner.directory.withdraw('qwen-2.5-7b')
    await new Promise((resolve) => setTimeout(resolve, 2 * timings.advertRetryMs))
    const again = await requester.directory.lookup('qwen-2.5-7b')
    expect([again.runners.map(String), again.queries]).toEqual([[runner.peerId.toString()], 0])
  })
})
