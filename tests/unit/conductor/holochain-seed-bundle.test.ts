/**
 * The seed bundle the holochain backend hands `lair-keystore import-seed` (hc_seed_bundle 0.6's
 * `hcsb0`): its msgpack shape, and that the key derived from its passphrase opens the seed again.
 * That lair itself imports it (and holds the same Ed25519 key) is seen on a real conductor in
 * tests/e2e/holochain-mesh.test.ts.
 */
import { decode } from '@msgpack/msgpack'
import sodium from 'libsodium-wrappers'
import { describe, expect, it } from 'vitest'
import {
  encodeSeedBundle,
  SEED_BUNDLE_LIMITS,
  seedBundleKey,
} from '../../../host/conductor/holochain/seed-bundle.ts'

const seed = Uint8Array.from({ length: 32 }, (_, i) => i * 7)

describe('the seed bundle lair imports', () => {
  it('is ["hcsb0", [["pw", salt, mem, ops, header, cipher]], app_data] in base64url', async () => {
    const bundle = await encodeSeedBundle(seed, 'a passphrase')
    expect(bundle).toMatch(/^[A-Za-z0-9_-]+$/)
    const [version, ciphers, appData] = decode(Buffer.from(bundle, 'base64url')) as [
      string,
      unknown[][],
      Uint8Array,
    ]
    expect(version).toBe('hcsb0')
    expect(appData.length).toBe(0)
    expect(ciphers).toHaveLength(1)
    const [kind, salt, mem, ops, header, cipher] = ciphers[0] as [
      string,
      Uint8Array,
      number,
      number,
      Uint8Array,
      Uint8Array,
    ]
    expect([kind, mem, ops]).toEqual(['pw', SEED_BUNDLE_LIMITS.memLimitBytes, SEED_BUNDLE_LIMITS.opsLimit])
    expect([salt.length, header.length, cipher.length]).toEqual([16, 24, 49])

    await sodium.ready
    const pull = (passphrase: string) =>
      sodium.crypto_secretstream_xchacha20poly1305_pull(
        sodium.crypto_secretstream_xchacha20poly1305_init_pull(header, seedBundleKey(passphrase, salt)),
        cipher,
        null,
      )
    const opened = pull('a passphrase')
    if (opened === false) throw new Error('the bundle did not open with its passphrase')
    expect(Buffer.from(opened.message).equals(seed)).toBe(true)
    expect(opened.tag).toBe(sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL)
    // libsodium.js answers false when the tag does not authenticate.
    expect(pull('another passphrase')).toBe(false)
  })

  it('salts each bundle afresh and refuses a seed that is not 32 bytes', async () => {
    expect(await encodeSeedBundle(seed, 'p')).not.toBe(await encodeSeedBundle(seed, 'p'))
    await expect(encodeSeedBundle(new Uint8Array(31), 'p')).rejects.toThrow(/32 bytes, not 31/)
  })
})
