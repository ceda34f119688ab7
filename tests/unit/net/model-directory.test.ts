import { afterEach, describe, expect, it } from 'vitest'
import type { RippleNode } from '../../../host/net/create-node.ts'
import { eventually, memoryNode } from './memory-fixtures.ts'
import { stopAll, testNetwork, waitFor } from './net-fixtures.ts'

const FAST = { cacheMs: 0, findTimeoutMs: 3_000 }

describe('the model directory (kad-dht, members only)', () => {
  const nodes: RippleNode[] = []
  afterEach(async () => {
    await stopAll(nodes.splice(0))
  })

  it('a requester that never met the runner finds it through the others', async () => {
    const network = testNetwork()
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
})
