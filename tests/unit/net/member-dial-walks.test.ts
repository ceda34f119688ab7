/**
 * A request (a record push, a read) to a member whose address this peer's store lost does not walk
 * the directory when the member's heartbeats told its addresses (member-dial.ts): walks counted as
 * the directory's peer lookups on two real loopback nodes.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { RippleNode } from '../../../host/net/create-node.ts'
import { PeerUnreachableError } from '../../../host/net/errors.ts'
import { loopbackNode, stopAll, testNetwork } from './net-fixtures.ts'

const PUSH = 'push-test/1.0.0'
const bytes = (text: string) => new TextEncoder().encode(text)

describe('dialling a member its peer store lost', () => {
  const network = testNetwork()
  let pusher: RippleNode
  let holder: RippleNode
  let untold: RippleNode
  let walks: ReturnType<typeof vi.spyOn>

  beforeAll(async () => {
    const serving = async () => {
      const node = await loopbackNode({ network, start: false, requestTimeoutMs: 5_000 })
      await node.rpc.handle(PUSH, async () => bytes('ack'))
      await node.start()
      return node
    }
    ;[pusher, holder, untold] = await Promise.all([serving(), serving(), serving()])
    walks = vi.spyOn(pusher.libp2p.services.directory, 'findPeer')
  })
  afterAll(async () => {
    await stopAll([pusher, holder, untold])
  })

  it('dials the addresses the holder told, never met before, without a walk', async () => {
    expect(pusher.memberAddresses.heard(holder.peerId, holder.memberAddresses.own())).toBeNull()
    expect((await pusher.libp2p.peerStore.all()).some((p) => p.id.equals(holder.peerId))).toBe(false)
    expect(new TextDecoder().decode(await pusher.rpc.request(holder.peerId, PUSH, bytes('ops')))).toBe('ack')
    expect(walks).not.toHaveBeenCalled()
    expect(pusher.memberDials).toEqual({ stored: 0, told: 1, walk: 0 })
  })

  it('dials them again once the connection closed and the store forgot the holder', async () => {
    await pusher.libp2p.hangUp(holder.peerId)
    await pusher.libp2p.peerStore.delete(holder.peerId)
    expect(new TextDecoder().decode(await pusher.rpc.request(holder.peerId, PUSH, bytes('ops')))).toBe('ack')
    expect(walks).not.toHaveBeenCalled()
  })

  it('walks for a member that told nothing (and fails: no directory here knows it)', async () => {
    await expect(pusher.rpc.request(untold.peerId, PUSH, bytes('ops'))).rejects.toThrow(PeerUnreachableError)
    expect(walks).toHaveBeenCalledTimes(1)
    expect(pusher.memberDials).toEqual({ stored: 0, told: 2, walk: 1 })
  })
})
