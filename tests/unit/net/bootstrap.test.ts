import { describe, expect, it } from 'vitest'
import {
  loadNetworkConfig,
  NoBootstrapPeersError,
  withBootstrap,
} from '../../../host/config/network-config.ts'
import { relayAnnounceAddrs } from '../../../host/relay/announce-addrs.ts'

const RELAY = '/ip4/11.0.0.1/tcp/4001/p2p/12D3KooWECKXGJdQVgwbxJ9Zd7u2bHK4jotksZ59fyqjeVGX1oxz'

describe('bootstrap peers of a network', () => {
  it('testnet and mainnet run embedded, without mDNS, holding relay slots', async () => {
    for (const name of ['testnet', 'mainnet']) {
      const network = await loadNetworkConfig(name)
      expect(network.backend).toBe('embedded')
      expect(network.libp2p?.mdns).toBe(false)
      expect(network.libp2p?.relay_reservations).toBeGreaterThan(0)
      // Hygiene: a vanished peer is offline within a minute.
      expect(network.heartbeat.offline_after_ms).toBeLessThanOrEqual(60_000)
    }
  })

  it('stops a network without mDNS and without bootstrap peers, saying how to pass them', async () => {
    const testnet = await loadNetworkConfig('testnet')
    expect(() => withBootstrap(testnet, [])).toThrow(NoBootstrapPeersError)
    expect(() => withBootstrap(testnet, [])).toThrow(/--bootstrap <multiaddr>.*"libp2p.bootstrap"/)
  })

  it('adds --bootstrap addresses once each, and lets --peer stand in for them', async () => {
    const testnet = await loadNetworkConfig('testnet')
    expect(withBootstrap(testnet, [RELAY, RELAY]).libp2p?.bootstrap).toEqual([RELAY])
    expect(withBootstrap(testnet, [], [RELAY]).libp2p?.bootstrap).toEqual([])
    const local = await loadNetworkConfig('local')
    expect(withBootstrap(local, []).libp2p?.bootstrap).toEqual([])
  })
})

describe('what a relay announces without --announce', () => {
  const cases: { name: string; listen: string[]; ips: string[]; want: string[] }[] = [
    {
      name: 'a fixed address as it is',
      listen: ['/ip4/11.0.0.1/tcp/4001'],
      ips: ['10.0.0.5'],
      want: ['/ip4/11.0.0.1/tcp/4001'],
    },
    {
      name: 'a wildcard as every interface address, loopback left out',
      listen: ['/ip4/0.0.0.0/tcp/4001'],
      ips: ['127.0.0.1', '203.0.113.7', '10.0.0.5'],
      want: ['/ip4/203.0.113.7/tcp/4001', '/ip4/10.0.0.5/tcp/4001'],
    },
    {
      name: 'nothing for port 0 (not known before start)',
      listen: ['/ip4/0.0.0.0/tcp/0'],
      ips: ['10.0.0.5'],
      want: [],
    },
    { name: 'nothing for other transports', listen: ['/ip6/::/tcp/4001'], ips: ['10.0.0.5'], want: [] },
  ]
  for (const c of cases) it(c.name, () => expect(relayAnnounceAddrs(c.listen, c.ips)).toEqual(c.want))
})
