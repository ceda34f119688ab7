/**
 * The dialer's discovery side: a LAN's mDNS reports every peer at once, and a peer dials only as many
 * as its neighbour target wants, counting the dials still in flight (each used to be dialled before the
 * first was verified: 19 connections per peer at 32 daemons on loopback, for a target of 4).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PeerDiscovery, PeerId } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { connectionBudget, wantsNeighbours } from '../../../host/net/connection-budget.ts'
import { startPeerDialer } from '../../../host/net/peer-dialer.ts'

const newPeerId = async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

describe('peer dialer', () => {
  it('dials only as many reported peers as the target wants, dials in flight counted', async () => {
    const ids = await Promise.all(Array.from({ length: 11 }, newPeerId))
    // The lowest id dials every pair at once (the other waits out the tie-break).
    ids.sort((a, b) => (a.toString() < b.toString() ? -1 : 1))
    const [self, ...reported] = ids as [PeerId, ...PeerId[]]
    const dialled: string[] = []
    const libp2p = {
      peerId: self,
      logger: defaultLogger(),
      getConnections: () => [],
      // Dials that never finish: every one is still in flight when the next report comes.
      dial: (addrs: unknown) => {
        dialled.push(String(addrs))
        return new Promise(() => {})
      },
      addEventListener: () => {},
      removeEventListener: () => {},
    } as unknown as Libp2p
    const discovery = new EventTarget() as unknown as PeerDiscovery
    const budget = connectionBudget()
    const dialer = startPeerDialer(libp2p, {
      peers: [],
      discovery: [discovery],
      wanted: (pending) => wantsNeighbours(pending, budget),
    })
    for (const id of reported)
      discovery.dispatchEvent(
        new CustomEvent('peer', { detail: { id, multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/1')] } }),
      )
    dialer.stop()
    expect(budget.neighbours).toBe(4)
    expect(dialled).toHaveLength(budget.neighbours)
  })
})
