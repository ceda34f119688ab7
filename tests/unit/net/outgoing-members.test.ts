/**
 * The member gate on the way out, on real libp2p nodes over loopback: a peer of the network that this
 * peer's gate does not admit is sent nothing on a members-only protocol (no stream opened, no request
 * sent: its handlers never run) and the refusal says why; a member is reached, and replication's
 * protocols (open to the network) still reach the peer not admitted. A node that judges no membership
 * (a joiner's, asking to be admitted) sends as asked.
 */
import { lpStream } from '@libp2p/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRippleNode, type RippleNode } from '../../../host/net/create-node.ts'
import { NotAMemberError, RequestRefusedError } from '../../../host/net/errors.ts'
import { connectedTo, LOOPBACK_LISTEN, loopbackNode, stopAll, testNetwork, waitFor } from './net-fixtures.ts'

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)

describe('outgoing streams and requests', () => {
  const network = testNetwork()
  let sender: RippleNode
  let member: RippleNode
  let stranger: RippleNode
  /** What each receiving node's handlers got: `<node> <protocol> <payload>`. */
  const received: string[] = []

  /** A node that admits everyone and notes every stream and request it is sent. */
  async function receiver(name: string, peers: string[]) {
    const node = await loopbackNode({ network, peers, start: false })
    await node.streams.handle('direct-like/1.0.0', async (stream) => {
      received.push(`${name} stream ${text((await lpStream(stream).read()).subarray())}`)
      await stream.close()
    })
    await node.rpc.handle('memory-like/1.0.0', async (req) => {
      received.push(`${name} request ${text(req)}`)
      return bytes('ok')
    })
    await node.rpc.handle('sync-like/1.0.0', async () => bytes('ops'), { openToNetwork: true })
    await node.start()
    return node
  }

  beforeAll(async () => {
    const members = new Set<string>()
    sender = await loopbackNode({
      network,
      admit: async (peer) =>
        members.has(peer.toString()) ? null : 'no genesis of its has reached this peer',
    })
    const peers = sender.multiaddrs().map(String)
    member = await receiver('member', peers)
    stranger = await receiver('stranger', peers)
    members.add(member.peerId.toString())
    await waitFor('the connections', () => connectedTo(sender, [member, stranger]))
  })
  afterAll(async () => {
    await stopAll([member, stranger, sender])
  })

  it('opens no stream to a peer that is not a member, and says why', async () => {
    const err = await sender.streams.open(stranger.peerId, 'direct-like/1.0.0').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NotAMemberError)
    // Callers that branch on a refusal (the peer is not one of ours) see one.
    expect(err).toBeInstanceOf(RequestRefusedError)
    expect((err as Error).message).toBe(
      `nothing sent to peer ${stranger.peerId}: it is not a member of this mesh: no genesis of its has reached this peer`,
    )
    const ok = await sender.streams.open(member.peerId, ['direct-like/2.0.0', 'direct-like/1.0.0'])
    // The first protocol of the list that the peer serves.
    expect(ok.protocol.endsWith('/direct-like/1.0.0')).toBe(true)
    await lpStream(ok).write(bytes('the prompt'))
    await waitFor('the member’s read', () => received.includes('member stream the prompt'))
    expect(received.filter((r) => r.startsWith('stranger'))).toEqual([])
  })

  it('sends no members-only request to a peer that is not a member', async () => {
    const err = await sender.rpc
      .request(stranger.peerId, 'memory-like/1.0.0', bytes('a page'))
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NotAMemberError)
    expect((err as Error).message).toMatch(/it is not a member of this mesh: no genesis of its/)
    expect(text(await sender.rpc.request(member.peerId, 'memory-like/1.0.0', bytes('a page')))).toBe('ok')
    expect(received).toContain('member request a page')
    expect(received.filter((r) => r.startsWith('stranger'))).toEqual([])
  })

  it('still asks a peer not admitted on a protocol open to the network (replication)', async () => {
    const answer = await sender.rpc.request(stranger.peerId, 'sync-like/1.0.0', bytes('?'), {
      openToNetwork: true,
    })
    expect(text(answer)).toBe('ops')
  })

  it('sends as asked from a node that judges no membership (a joiner asking to be admitted)', async () => {
    const joiner = await createRippleNode({
      network,
      listen: LOOPBACK_LISTEN,
      peers: stranger.multiaddrs().map(String),
      mdnsInterface: '127.0.0.1',
      loopbackTuning: true,
    })
    try {
      await waitFor('the connection', () => connectedTo(joiner, [stranger]))
      expect(text(await joiner.rpc.request(stranger.peerId, 'memory-like/1.0.0', bytes('let me in')))).toBe(
        'ok',
      )
      expect(received).toContain('stranger request let me in')
    } finally {
      await joiner.stop()
    }
  })
})
