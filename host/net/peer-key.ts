/**
 * A peer's libp2p identity is its agent key: both are Ed25519, so the PeerId (`12D3KooW...`) encodes
 * the same public key that signs the agent's source chain.
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'

/** Thrown when a key seed is not 32 bytes. */
export class InvalidKeySeedError extends Error {
  static override readonly name = 'InvalidKeySeedError'
  constructor(length: number) {
    super(`an Ed25519 seed is 32 bytes, got ${length}`)
    this.name = 'InvalidKeySeedError'
  }
}

/**
 * The libp2p private key for a 32-byte Ed25519 seed (the agent's secret key). Not
 * `privateKeyFromRaw`: it takes the 64-byte seed||public form and would read 32 bytes as secp256k1.
 */
export async function peerKeyFromSeed(seed: Uint8Array): Promise<Ed25519PrivateKey> {
  if (seed.length !== 32) throw new InvalidKeySeedError(seed.length)
  return generateKeyPairFromSeed('Ed25519', seed)
}
