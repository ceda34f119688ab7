import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Ping } from '@libp2p/ping'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { pingConnectedOnly } from '../../../host/net/directory-ping.ts'

const peer = async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

describe('pingConnectedOnly', () => {
  it('pings a connected contact, and refuses one it would have to dial without dialling it', async () => {
    const [near, far] = [await peer(), await peer()]
    const pinged: unknown[] = []
    const ping: Ping = {
      ping: async (target) => {
        pinged.push(target)
        return 3
      },
    }
    const open = new Set([near.toString()])
    const checked = pingConnectedOnly(ping, {
      getConnections: (p) => (open.has(p.toString()) ? [{}] : []),
    })
    expect(await checked.ping(near)).toBe(3)
    await expect(checked.ping(far)).rejects.toThrow(/not connected/)
    expect(pinged).toEqual([near])
    // Met later (a lookup talked to it), it is checked.
    open.add(far.toString())
    expect(await checked.ping(far)).toBe(3)
    // An address is a dial someone asked for: passed on.
    const address = multiaddr('/ip4/127.0.0.1/tcp/4001')
    expect(await checked.ping(address)).toBe(3)
    expect(pinged).toEqual([near, far, address])
  })
})
