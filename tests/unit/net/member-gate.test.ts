/**
 * The member gate on real libp2p nodes over loopback: a peer of the network (right key, hello passed)
 * that the membership check does not admit gets no request answered and no stream served on any
 * members-only protocol, and its handler never runs; replication's protocols (open to the network)
 * still answer it, and a member is served. The check here is a table of agents: what the conductor
 * decides is tested with the embedded peer (tests/e2e/private-mesh.test.ts).
 */
import { lpStream } from '@libp2p/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RippleNode } from '../../../host/net/create-node.ts'
import { RequestRefusedError } from '../../../host/net/errors.ts'
import { connectedTo, loopbackNode, stopAll, testNetwork, waitFor } from './net-fixtures.ts'

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)

describe('the member gate', () => {
  const network = testNetwork()
  let server: RippleNode
  let member: RippleNode
  let stranger: RippleNode
  const ran: string[] = []

  beforeAll(async () => {
    const members = new Set<string>()
    server = await loopbackNode({
      network,
      start: false,
      admit: async (peer) => (members.has(peer.toString()) ? null : 'not in the table'),
    })
    await server.rpc.handle('work/1.0.0', async (req, peer) => {
      ran.push(peer.toString())
      return bytes(`done ${text(req)}`)
    })
    await server.rpc.handle('sync-like/1.0.0', async () => bytes('ops'), { openToNetwork: true })
    await server.streams.handle('tunnel/1.0.0', async (stream, peer) => {
      ran.push(peer.toString())
      const lp = lpStream(stream)
      await lp.write(bytes('build-id-secret'))
      await stream.close()
    })
    // How Helia's bitswap registers its protocol: through the node it is lent, behind the gate.
    await server.gate.membersOnly(server.libp2p).handle('/test/blocks/1.0.0', async (stream, connection) => {
      ran.push(connection.remotePeer.toString())
      await lpStream(stream).write(bytes('a block'))
      await stream.close()
    })
    await server.start()
    const peers = server.multiaddrs().map(String)
    member = await loopbackNode({ network, peers })
    stranger = await loopbackNode({ network, peers })
    members.add(member.peerId.toString())
    await waitFor('the connections', () => connectedTo(server, [member, stranger]))
  })
  afterAll(async () => {
    await stopAll([member, stranger, server])
  })

  it('answers a member on a members-only protocol', async () => {
    const res = await member.rpc.request(server.peerId, 'work/1.0.0', bytes('x'))
    expect(text(res)).toBe('done x')
    expect(ran).toContain(member.peerId.toString())
  })

  it('refuses a verified peer that is not a member, before its handler runs', async () => {
    const err = await stranger.rpc.request(server.peerId, 'work/1.0.0', bytes('x')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RequestRefusedError)
    expect((err as Error).message).toMatch(/not a member of this mesh: not in the table/)
    expect(ran).not.toContain(stranger.peerId.toString())
  })

  it('resets a non-member’s stream without a byte of the handler’s', async () => {
    const stream = await stranger.streams.open(server.peerId, 'tunnel/1.0.0')
    const read = await lpStream(stream)
      .read()
      .then((frame) => text(frame.subarray()))
      .catch((e: Error) => e)
    expect(read).toBeInstanceOf(Error)
    expect(ran).not.toContain(stranger.peerId.toString())
    const ok = await member.streams.open(server.peerId, 'tunnel/1.0.0')
    expect(text((await lpStream(ok).read()).subarray())).toBe('build-id-secret')
  })

  it('puts protocols a service registers itself (bitswap) behind the gate', async () => {
    const refused = await stranger.libp2p.dialProtocol(server.peerId, '/test/blocks/1.0.0')
    await expect(lpStream(refused).read()).rejects.toThrow()
    expect(ran).not.toContain(stranger.peerId.toString())
    const served = await member.libp2p.dialProtocol(server.peerId, '/test/blocks/1.0.0')
    expect(text((await lpStream(served).read()).subarray())).toBe('a block')
  })

  it('still serves replication (open to the network) to a peer not yet admitted', async () => {
    expect(text(await stranger.rpc.request(server.peerId, 'sync-like/1.0.0', bytes('?')))).toBe('ops')
  })
})
