import type { Address, Connection } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { DialOrder } from '../../../host/net/dial-order.ts'

const PEER = '12D3KooWQqXifcsyiUqo1XpEngmbNUnGT8FP8aK6e3zzRkRJMuT9'
const RELAY = '/ip4/11.0.0.1/tcp/4001/p2p/12D3KooWPAEde1H1WWhWpybsMY7vCsFX2cxzAC9wd2xwVoXqwPFC/p2p-circuit'
const RELAYED = `${RELAY}/p2p/${PEER}`
const WEBRTC = `${RELAY}/webrtc/p2p/${PEER}`
const PRIVATE = `/ip4/10.1.0.2/tcp/35721/p2p/${PEER}`
const LOOPBACK = `/ip4/127.0.0.1/tcp/35721/p2p/${PEER}`

const addr = (ma: string, isCertified = false): Address => ({ multiaddr: multiaddr(ma), isCertified })
const sorted = (order: DialOrder, list: string[]) =>
  list
    .map((ma) => addr(ma))
    .sort(order.sort)
    .map((a) => a.multiaddr.toString())
const connection = (remoteAddr: string) =>
  ({ remotePeer: peerIdFromString(PEER), remoteAddr: multiaddr(remoteAddr) }) as unknown as Connection

describe('DialOrder', () => {
  const behindNat = [LOOPBACK, RELAYED, PRIVATE, WEBRTC]

  it("keeps libp2p's order for a peer not yet reached: WebRTC first, then the public relay, loopback last", () => {
    expect(sorted(new DialOrder(), behindNat)).toEqual([WEBRTC, RELAYED, PRIVATE, LOOPBACK])
  })

  it.each([
    {
      why: 'reached through the relay alone (WebRTC failed or was not tried)',
      seen: (o: DialOrder) => o.opened(connection(RELAYED), [connection(RELAYED)]),
    },
    { why: 'its WebRTC connection never carried a stream', seen: (o: DialOrder) => o.relayFirst(PEER) },
  ])('puts the relay before WebRTC for a peer $why', ({ seen }) => {
    const order = new DialOrder()
    seen(order)
    expect(sorted(order, behindNat)).toEqual([RELAYED, PRIVATE, LOOPBACK, WEBRTC])
  })

  it('tries WebRTC first again once a WebRTC connection to the peer opened', () => {
    const order = new DialOrder()
    order.opened(connection(RELAYED), [connection(RELAYED)])
    order.opened(connection(WEBRTC), [connection(RELAYED), connection(WEBRTC)])
    expect(sorted(order, behindNat)[0]).toBe(WEBRTC)
    // The signalling relay connection opening beside a WebRTC one does not undo it.
    order.opened(connection(RELAYED), [connection(WEBRTC), connection(RELAYED)])
    expect(sorted(order, behindNat)[0]).toBe(WEBRTC)
  })

  it('leaves other peers alone, and ranks certified addresses first among equals', () => {
    const order = new DialOrder()
    order.relayFirst('12D3KooWPAEde1H1WWhWpybsMY7vCsFX2cxzAC9wd2xwVoXqwPFC')
    expect(sorted(order, behindNat)[0]).toBe(WEBRTC)
    const certified = [addr('/ip4/8.8.8.8/tcp/1'), addr('/ip4/8.8.4.4/tcp/1', true)].sort(order.sort)
    expect(certified.map((a) => a.multiaddr.toString())).toEqual(['/ip4/8.8.4.4/tcp/1', '/ip4/8.8.8.8/tcp/1'])
  })
})
