import { createPrivateKey, createPublicKey } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { networkIdentity } from '../../../host/net/network-identity.ts'
import { InvalidKeySeedError, peerKeyFromSeed } from '../../../host/net/peer-key.ts'
import { swarmKey } from '../../../host/net/private-network.ts'

describe('network identity', () => {
  it('is derived from name and seed only', () => {
    const a = networkIdentity({ name: 'local', seed: 'ripple-local-v1' })
    const again = networkIdentity({ name: 'local', seed: 'ripple-local-v1' })
    expect(again.id).toEqual(a.id)
    expect(a.tag).toMatch(/^[0-9a-f]{16}$/)
    expect(a.opsTopic).toBe(`/ripple/${a.tag}/ops/2.0.0`)
    expect(a.protocol('catch-up/1.0.0')).toBe(`/ripple/${a.tag}/catch-up/1.0.0`)
    expect(a.mdnsServiceTag).toBe(`_ripple-${a.tag}._udp.local`)
  })

  it('differs when the seed or the name differs', () => {
    const a = networkIdentity({ name: 'local', seed: 's1' })
    for (const other of [
      networkIdentity({ name: 'local', seed: 's2' }),
      networkIdentity({ name: 'lan', seed: 's1' }),
    ]) {
      expect(other.tag).not.toBe(a.tag)
      expect(other.opsTopic).not.toBe(a.opsTopic)
      expect(other.signalsTopic).not.toBe(a.signalsTopic)
    }
  })
})

describe('peer key from an agent seed', () => {
  const seed = Uint8Array.from({ length: 32 }, (_, i) => i)

  it('is the Ed25519 key of that seed, so the PeerId carries the agent public key', async () => {
    const key = await peerKeyFromSeed(seed)
    expect(key.type).toBe('Ed25519')
    // The same seed through node:crypto (PKCS#8 wrapper for a raw Ed25519 seed).
    const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed])
    const jwk = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({
      format: 'jwk',
    })
    expect(Buffer.from(key.publicKey.raw).toString('base64url')).toBe(jwk.x)
    expect((await peerKeyFromSeed(seed)).publicKey.equals(key.publicKey)).toBe(true)
  })

  it('rejects a seed that is not 32 bytes', async () => {
    await expect(peerKeyFromSeed(new Uint8Array(64))).rejects.toBeInstanceOf(InvalidKeySeedError)
  })
})

describe('swarm key', () => {
  it('wraps the hex key in the v1 format @libp2p/pnet reads', () => {
    const hex = 'ab'.repeat(32)
    expect(new TextDecoder().decode(swarmKey(hex))).toBe(`/key/swarm/psk/1.0.0/\n/base16/\n${hex}`)
  })
})
