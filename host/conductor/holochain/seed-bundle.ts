/**
 * An Ed25519 seed locked as Holochain's `hcsb0` seed bundle (hc_seed_bundle 0.6, the format
 * `lair-keystore import-seed` reads), so lair holds the Ripple agent's own key and the conductor installs
 * the cells under it. The passphrase is pre-hashed with BLAKE2b-512, stretched with Argon2id into a
 * secretstream (XChaCha20-Poly1305) key, and the seed pushed as one final message: the bundle is
 * `["hcsb0", [["pw", salt, mem_limit, ops_limit, header, cipher]], app_data]` in msgpack, base64url.
 */
import { encode } from '@msgpack/msgpack'
import { argon2id } from '@noble/hashes/argon2.js'
import { blake2b } from '@noble/hashes/blake2.js'
import sodium from 'libsodium-wrappers'

/**
 * libsodium's minimum Argon2id limits: the passphrase is random and used once, through a pipe
 * (./conductor-process.ts), so stretching it buys nothing.
 */
export const SEED_BUNDLE_LIMITS = { memLimitBytes: 8192, opsLimit: 1 } as const

/** The secretstream key for `passphrase` and `salt`, as hc_seed_bundle derives it. */
export function seedBundleKey(passphrase: string, salt: Uint8Array): Uint8Array {
  const prehash = blake2b(new TextEncoder().encode(passphrase), { dkLen: 64 })
  return argon2id(prehash, salt, {
    t: SEED_BUNDLE_LIMITS.opsLimit,
    m: SEED_BUNDLE_LIMITS.memLimitBytes / 1024,
    p: 1,
    dkLen: 32,
  })
}

/** Locks a 32-byte seed under `passphrase`: the bundle lair imports, base64url without padding. */
export async function encodeSeedBundle(seed: Uint8Array, passphrase: string): Promise<string> {
  if (seed.length !== 32) throw new TypeError(`a seed is 32 bytes, not ${seed.length}`)
  await sodium.ready
  const salt = sodium.randombytes_buf(16)
  const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(
    seedBundleKey(passphrase, salt),
  )
  const cipher = sodium.crypto_secretstream_xchacha20poly1305_push(
    state,
    seed,
    null,
    sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL,
  )
  const { memLimitBytes, opsLimit } = SEED_BUNDLE_LIMITS
  const bundle = ['hcsb0', [['pw', salt, memLimitBytes, opsLimit, header, cipher]], new Uint8Array(0)]
  return Buffer.from(encode(bundle)).toString('base64url')
}
