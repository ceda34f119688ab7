/** A stream or request on a protocol version the peer does not serve: the refusal names both sides' versions. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agentOfPeerB64 } from '../../../host/identity/peer-agent.ts'
import type { RippleNode } from '../../../host/net/create-node.ts'
import { networkIdentity } from '../../../host/net/network-identity.ts'
import { ProtocolVersionError, protocolVersion, servedVersions } from '../../../host/net/protocol-versions.ts'
import { loopbackNode, stopAll, testNetwork, waitFor } from './net-fixtures.ts'

describe('protocol versions from ids', () => {
  it.each([
    ['direct-infer/2.0.0', { name: 'direct-infer', major: 2 }],
    ['split/rpc/1.0.0', { name: 'split/rpc', major: 1 }],
    ['hello/10', { name: 'hello', major: 10 }],
    ['no-version', null],
  ])('%s', (suffix, parsed) => expect(protocolVersion(suffix)).toEqual(parsed))

  it("picks one protocol's versions among a peer's ids on this network", () => {
    const identity = networkIdentity({ name: 'local', seed: 'a' })
    const other = networkIdentity({ name: 'local', seed: 'b' })
    const ids = [
      identity.protocol('direct-infer/1.0.0'),
      identity.protocol('direct-infer/3.1.0'),
      identity.protocol('direct-infer-extra/9.0.0'),
      other.protocol('direct-infer/7.0.0'),
      '/ipfs/id/1.0.0',
    ]
    expect(servedVersions(identity, 'direct-infer', ids)).toEqual([3, 1])
  })
})

describe('a peer without the version needed', () => {
  const nodes: RippleNode[] = []
  let old: RippleNode
  let fresh: RippleNode
  beforeAll(async () => {
    const network = testNetwork()
    old = await loopbackNode({
      network,
      start: false,
      statement: { release: '0.1.9', protocols: { probe: 1, ask: 1 } },
    })
    await old.streams.handle('probe/1.0.0', (stream) => stream.close())
    await old.rpc.handle('ask/1.0.0', async (req) => req)
    await old.start()
    fresh = await loopbackNode({ network, peers: old.multiaddrs().map(String) })
    nodes.push(old, fresh)
    await waitFor(
      'the hello',
      () => fresh.peers.has(old.peerId) && fresh.versions.of(agent(old)) !== undefined,
    )
  })
  afterAll(() => stopAll(nodes))

  const agent = (node: RippleNode) => agentOfPeerB64(node.peerId) as string
  const needs = (protocol: string, versions: string) =>
    `peer ${agent(old)} speaks ${protocol} 1 only (Ripple 0.1.9); this peer needs ${versions}: upgrade ${agent(old)}`

  it('refuses a stream, naming the versions each side speaks and who upgrades', async () => {
    const opening = fresh.streams.open(old.peerId, ['probe/3.0.0', 'probe/2.0.0'])
    await expect(opening).rejects.toBeInstanceOf(ProtocolVersionError)
    await expect(opening).rejects.toThrow(needs('probe', '3 or 2'))
  })

  it('refuses a request the same way', async () => {
    const asking = fresh.rpc.request(old.peerId, 'ask/2.0.0', new Uint8Array([1]))
    await expect(asking).rejects.toThrow(needs('ask', '2'))
    const answer = await fresh.rpc.request(old.peerId, 'ask/1.0.0', new Uint8Array([1]))
    expect([...answer]).toEqual([1])
  })
})
