import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type { RippleNode } from '../../../host/net/create-node.ts'
import { connectedTo, loopbackNode, stopAll, testNetwork, waitFor } from './net-fixtures.ts'

describe('pre-shared network key (pnet)', () => {
  const nodes: RippleNode[] = []
  afterEach(async () => {
    await stopAll(nodes.splice(0))
  })

  it('peers with the same key connect; a peer with another key cannot', async () => {
    const network = testNetwork({ psk: randomBytes(32).toString('hex') })
    const hub = await loopbackNode({ network })
    nodes.push(hub)
    const hubAddrs = hub.multiaddrs().map(String)
    const member = await loopbackNode({ network, peers: hubAddrs })
    const outsider = await loopbackNode({
      network: { ...network, libp2p: { ...network.libp2p!, psk: randomBytes(32).toString('hex') } },
      peers: hubAddrs,
    })
    nodes.push(member, outsider)

    await waitFor('the member to connect', () => connectedTo(hub, [member]) && connectedTo(member, [hub]))
    await expect(
      outsider.libp2p.dial(hub.multiaddrs()[0]!, { signal: AbortSignal.timeout(1_500) }),
    ).rejects.toThrow()
    expect(hub.peers.has(outsider.peerId)).toBe(false)
    expect(hub.libp2p.getConnections(outsider.peerId)).toHaveLength(0)
    expect(outsider.peers.list()).toHaveLength(0)
  })

  it('a peer without any key cannot connect to a keyed network', async () => {
    const network = testNetwork({ psk: randomBytes(32).toString('hex') })
    const hub = await loopbackNode({ network })
    const open = await loopbackNode({ network: { ...network, libp2p: { ...network.libp2p!, psk: null } } })
    nodes.push(hub, open)
    await expect(
      open.libp2p.dial(hub.multiaddrs()[0]!, { signal: AbortSignal.timeout(1_500) }),
    ).rejects.toThrow()
    expect(hub.libp2p.getConnections(open.peerId)).toHaveLength(0)
  })
})
