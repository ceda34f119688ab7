import { describe, expect, it } from 'vitest'
import {
  loadNetworkConfig,
  NoBootstrapPeersError,
  withBootstrap,
} from '../../../host/config/network-config.ts'

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
