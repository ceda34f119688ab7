/**
 * A task's input or output too large for a signal goes on IPFS, where any member can fetch a CID: it
 * goes sealed (AES-256-GCM, a fresh key per payload), and its key record travels privately between the
 * task's two parties like any smaller payload, so the Task or Result names the key record by hash.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { z } from 'zod'
import { CidSchema, Sha256HexSchema } from '../../zomes-bindings/index.ts'

const KEY_BYTES = 32
const NONCE_BYTES = 12
const TAG_BYTES = 16

/** What opens a sealed payload: where it is, its key, and the sha256 of the plaintext JSON's UTF-8. */
export const SealedKeySchema = z.strictObject({
  cid: CidSchema,
  key: z.base64url().refine((k) => Buffer.from(k, 'base64url').length === KEY_BYTES, {
    message: `must be ${KEY_BYTES} bytes`,
  }),
  sha256: Sha256HexSchema,
})
export type SealedKey = z.infer<typeof SealedKeySchema>

/** Why sealed bytes would not open: a wrong key, bytes altered on the way, or content other than named. */
export class SealedPayloadError extends Error {
  static override readonly name = 'SealedPayloadError'
  constructor(message: string) {
    super(message)
    this.name = 'SealedPayloadError'
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Seals `json`: nonce(12) || ciphertext || tag(16), the key (base64url) and the plaintext's sha256. */
export function seal(json: string): { bytes: Buffer; key: string; sha256: string } {
  const plain = Buffer.from(json, 'utf8')
  const key = randomBytes(KEY_BYTES)
  const nonce = randomBytes(NONCE_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, nonce)
  const bytes = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()])
  return { bytes, key: key.toString('base64url'), sha256: sha256Hex(plain) }
}

/** The JSON sealed in `bytes` with `key` (base64url); a SealedPayloadError when they do not open. */
export function open(bytes: Uint8Array, key: string): string {
  if (bytes.length < NONCE_BYTES + TAG_BYTES)
    throw new SealedPayloadError(`${bytes.length} bytes are too few to be a sealed payload`)
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  const decipher = createDecipheriv(
    'aes-256-gcm',
    Buffer.from(key, 'base64url'),
    buf.subarray(0, NONCE_BYTES),
  )
  decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES))
  try {
    const plain = Buffer.concat([
      decipher.update(buf.subarray(NONCE_BYTES, buf.length - TAG_BYTES)),
      decipher.final(),
    ])
    return plain.toString('utf8')
  } catch {
    throw new SealedPayloadError(
      'the sealed payload does not open with this key (a wrong key or altered bytes)',
    )
  }
}

/** Opens `bytes` with the record's key and checks the plaintext against the record's sha256. */
export function openSealed(bytes: Uint8Array, record: SealedKey): string {
  const json = open(bytes, record.key)
  const got = sha256Hex(Buffer.from(json, 'utf8'))
  if (got !== record.sha256)
    throw new SealedPayloadError(
      `the payload at ${record.cid} opened to content of sha256 ${got}, not the ${record.sha256} its key names`,
    )
  return json
}
