import { createPrivateKey, createPublicKey } from 'node:crypto'
import { chmod, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { holoHashKind } from '../../../host/identity/hash.ts'
import {
  AGENT_KEY_FILE,
  InsecureKeyFileError,
  InvalidKeyFileError,
  openAgentKey,
  verifyAgentSignature,
} from '../../../host/identity/keystore.ts'
import { tempDir } from '../conductor/fixtures/test-cell.ts'

describe('agent keystore', () => {
  it('creates the key with mode 0600 on first start and reuses it after', async () => {
    const dir = await tempDir()
    const first = await openAgentKey(dir)
    expect((await stat(join(dir, AGENT_KEY_FILE))).mode & 0o777).toBe(0o600)
    expect(holoHashKind(first.agentPubKey)).toBe('agent')
    const again = await openAgentKey(dir)
    expect(again.agentPubKey).toEqual(first.agentPubKey)
    expect(again.exportSeed()).toEqual(first.exportSeed())
  })

  it('exports the seed the key was made from', async () => {
    const key = await openAgentKey(await tempDir())
    const seed = key.exportSeed()
    expect(seed).toHaveLength(32)
    const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed])
    const fromSeed = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }))
    const x = Buffer.from(fromSeed.export({ format: 'jwk' }).x!, 'base64url')
    expect(new Uint8Array(x)).toEqual(key.agentPubKey.subarray(3, 35))
  })

  it('signs with the agent key', async () => {
    const key = await openAgentKey(await tempDir())
    const other = await openAgentKey(await tempDir())
    const bytes = new TextEncoder().encode('signed')
    const signature = key.sign(bytes)
    expect(verifyAgentSignature(key.agentPubKey, bytes, signature)).toBe(true)
    expect(verifyAgentSignature(other.agentPubKey, bytes, signature)).toBe(false)
    expect(verifyAgentSignature(key.agentPubKey, new TextEncoder().encode('other'), signature)).toBe(false)
  })

  it('refuses a key file readable by group or others', async () => {
    const dir = await tempDir()
    await openAgentKey(dir)
    await chmod(join(dir, AGENT_KEY_FILE), 0o644)
    await expect(openAgentKey(dir)).rejects.toThrow(InsecureKeyFileError)
    await expect(openAgentKey(dir)).rejects.toThrow(/chmod 600/)
  })

  it('refuses a key file that is not an Ed25519 key', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, AGENT_KEY_FILE), 'garbage', { mode: 0o600 })
    await expect(openAgentKey(dir)).rejects.toThrow(InvalidKeyFileError)
  })
})
