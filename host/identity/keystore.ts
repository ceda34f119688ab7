/**
 * The agent's Ed25519 key: created on first start in `<dataDir>/agent.key` (PKCS#8 DER, mode 0600),
 * reused after. The key is the agent's identity in every cell, so losing it means a new agent.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto'
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { core32, holoHashFrom32 } from './hash.ts'

export const AGENT_KEY_FILE = 'agent.key'

/** Thrown when the agent key file can be read by group or others (a leaked key is a stolen identity). */
export class InsecureKeyFileError extends Error {
  static override readonly name = 'InsecureKeyFileError'
  constructor(
    readonly path: string,
    mode: number,
  ) {
    super(
      `agent key ${path} has mode ${(mode & 0o777).toString(8)}: it must not be readable by group or others; ` +
        `run: chmod 600 ${path}`,
    )
    this.name = 'InsecureKeyFileError'
  }
}

/** Thrown when the agent key file exists but does not hold an Ed25519 private key. */
export class InvalidKeyFileError extends Error {
  static override readonly name = 'InvalidKeyFileError'
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`agent key ${path} is not an Ed25519 PKCS#8 key: ${reason}`)
    this.name = 'InvalidKeyFileError'
  }
}

export interface AgentKey {
  /** The 39-byte AgentPubKey HoloHash. */
  readonly agentPubKey: Uint8Array
  sign(bytes: Uint8Array): Uint8Array
  /**
   * The 32-byte Ed25519 seed: a secret. It exists so the libp2p identity can be the same key
   * (`peerKeyFromSeed`), making the PeerId and the agent one identity.
   */
  exportSeed(): Uint8Array
}

/** Opens `<dataDir>/agent.key`, creating it (and dataDir, 0700) on first start. */
export async function openAgentKey(dataDir: string): Promise<AgentKey> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const path = join(dataDir, AGENT_KEY_FILE)
  const existing = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null
    throw err
  })
  if (existing === null) return createKeyFile(path)
  if ((existing.mode & 0o077) !== 0) throw new InsecureKeyFileError(path, existing.mode)
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: await readFile(path), format: 'der', type: 'pkcs8' })
  } catch (err) {
    throw new InvalidKeyFileError(path, (err as Error).message)
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new InvalidKeyFileError(path, `key type is ${privateKey.asymmetricKeyType}`)
  }
  return agentKeyFrom(privateKey)
}

async function createKeyFile(path: string): Promise<AgentKey> {
  const { privateKey } = generateKeyPairSync('ed25519')
  const der = privateKey.export({ format: 'der', type: 'pkcs8' })
  // 'wx' fails if another process created the key meanwhile, rather than silently replacing an identity.
  await writeFile(path, der, { mode: 0o600, flag: 'wx' })
  // The mode given to writeFile is filtered by the umask; chmod makes 0600 certain.
  await chmod(path, 0o600)
  return agentKeyFrom(privateKey)
}

function agentKeyFrom(privateKey: KeyObject): AgentKey {
  const raw = rawPublicKey(createPublicKey(privateKey))
  return {
    agentPubKey: holoHashFrom32(raw, 'agent'),
    sign: (bytes) => new Uint8Array(sign(null, bytes, privateKey)),
    exportSeed: () => new Uint8Array(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url')),
  }
}

function rawPublicKey(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' })
  return new Uint8Array(Buffer.from(jwk.x!, 'base64url'))
}

const publicKeys = new Map<string, KeyObject>()

/** Checks an Ed25519 signature by the agent whose AgentPubKey HoloHash is given. */
export function verifyAgentSignature(
  agentPubKey: Uint8Array,
  bytes: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.length !== 64) return false
  const cacheKey = Buffer.from(agentPubKey).toString('base64')
  let key = publicKeys.get(cacheKey)
  if (key === undefined) {
    const x = Buffer.from(core32(agentPubKey)).toString('base64url')
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' })
    // Bounded: a replicating peer sees many authors; the cache only saves re-parsing hot keys.
    if (publicKeys.size >= 1024) publicKeys.clear()
    publicKeys.set(cacheKey, key)
  }
  return verify(null, bytes, key, signature)
}
