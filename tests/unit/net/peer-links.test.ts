import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { linkOf } from '../../../host/net/peer-links.ts'

const RELAY = '12D3KooWECKXGJdQVgwbxJ9Zd7u2bHK4jotksZ59fyqjeVGX1oxz'
const PEER = '12D3KooWRzG8PzWs1WSWDvyn6XLroB8yupd9zKXebAe6FZbYuzv2'
const relayed = (open: number) => ({
  remoteAddr: multiaddr(`/ip4/11.0.0.1/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/${PEER}`),
  timeline: { open },
  direct: false,
})
const direct = (open: number) => ({
  remoteAddr: multiaddr(`/ip4/11.0.0.3/tcp/40123/p2p/${PEER}`),
  timeline: { open },
  direct: true,
})
/** WebRTC signalled through the relay: a relayed address, a direct connection. */
const webrtc = (open: number) => ({
  remoteAddr: multiaddr(`/ip4/11.0.0.1/tcp/4001/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${PEER}`),
  timeline: { open },
  direct: true,
})

describe('how a peer is connected', () => {
  const cases = [
    { name: 'not at all', connections: [], want: null },
    {
      name: 'relayed, via the relay named before /p2p-circuit',
      connections: [relayed(5)],
      want: { path: 'relayed', via: RELAY, opened_at: 5 },
    },
    { name: 'direct', connections: [direct(7)], want: { path: 'direct', via: null, opened_at: 7 } },
    {
      name: 'WebRTC set up through a relay is direct',
      connections: [relayed(2), webrtc(6)],
      want: { path: 'direct', via: null, opened_at: 6 },
    },
    {
      name: 'direct wins over an older relayed connection',
      connections: [relayed(1), direct(9)],
      want: { path: 'direct', via: null, opened_at: 9 },
    },
    {
      name: 'the oldest of two relayed connections',
      connections: [relayed(8), relayed(3)],
      want: { path: 'relayed', via: RELAY, opened_at: 3 },
    },
  ]
  for (const c of cases) {
    it(c.name, () => {
      const link = linkOf(c.connections)
      if (c.want === null) expect(link).toBeNull()
      else expect(link).toMatchObject(c.want)
    })
  }
})
