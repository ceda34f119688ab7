/**
 * A payload on IPFS goes sealed: only its key record (kept and exchanged privately) opens it, and
 * altered bytes, a wrong key or content other than the record names are refused.
 */
import { describe, expect, it } from 'vitest'
import { payloadHash } from '../../../host/identity/payload-hash.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { HeldPayloads } from '../../../host/scheduler/held-payloads.ts'
import { PrivatePayloads } from '../../../host/scheduler/private-payloads.ts'
import { salted } from '../../../host/scheduler/salted-payload.ts'
import {
  open,
  openSealed,
  SealedKeySchema,
  SealedPayloadError,
  seal,
  sha256Hex,
} from '../../../host/scheduler/sealed-payload.ts'
import { getSealed, putSealed, type TaskPayloads } from '../../../host/scheduler/task-payloads.ts'

const CID = 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'

describe('seal and open', () => {
  it.each([
    ['an empty object', '{}'],
    ['text beyond ASCII', JSON.stringify({ prompt: 'héllo — 世界 🌊' })],
    ['3 MiB of text', JSON.stringify({ message: 'x'.repeat(3 * 1024 * 1024) })],
  ])('round-trips %s, sealed bytes hiding the text', (_, json) => {
    const sealed = seal(json)
    expect(sealed.bytes.length).toBe(Buffer.byteLength(json) + 12 + 16)
    expect(sealed.sha256).toBe(sha256Hex(Buffer.from(json)))
    expect(SealedKeySchema.parse({ cid: CID, key: sealed.key, sha256: sealed.sha256 }).key).toBe(sealed.key)
    expect(open(sealed.bytes, sealed.key)).toBe(json)
    if (json.length > 100) expect(sealed.bytes.includes(Buffer.from('x'.repeat(64)))).toBe(false)
  })

  it('seals the same JSON under a new key and nonce each time', () => {
    const [a, b] = [seal('{"a":1}'), seal('{"a":1}')]
    expect(a.key).not.toBe(b.key)
    expect(a.bytes.equals(b.bytes)).toBe(false)
  })

  it('refuses a wrong key', () => {
    const sealed = seal('{"secret":true}')
    expect(() => open(sealed.bytes, seal('{}').key)).toThrow(SealedPayloadError)
    expect(() => open(sealed.bytes, seal('{}').key)).toThrow(/wrong key or altered bytes/)
  })

  it.each([
    ['the nonce', 0],
    ['the ciphertext', 14],
    ['the tag', -1],
  ])('refuses one flipped byte in %s', (_, at) => {
    const sealed = seal('{"secret":"abcdefgh"}')
    const bytes = Buffer.from(sealed.bytes)
    const i = at < 0 ? bytes.length + at : at
    bytes[i] = bytes[i]! ^ 1
    expect(() => open(bytes, sealed.key)).toThrow(SealedPayloadError)
  })

  it('refuses bytes too few to be sealed', () => {
    expect(() => open(new Uint8Array(27), seal('{}').key)).toThrow(/too few/)
  })

  it('refuses content other than its key record names', () => {
    const sealed = seal('{"a":1}')
    const record = { cid: CID, key: sealed.key, sha256: sha256Hex(Buffer.from('{"a":2}')) }
    expect(openSealed(sealed.bytes, { ...record, sha256: sealed.sha256 })).toBe('{"a":1}')
    expect(() => openSealed(sealed.bytes, record)).toThrow(/not the [0-9a-f]{64} its key names/)
  })

  it.each([
    ['a short key', { cid: CID, key: 'AAAA', sha256: 'a'.repeat(64) }],
    ['no CID', { cid: 'not-a-cid', key: seal('{}').key, sha256: 'a'.repeat(64) }],
    ['a field more', { cid: CID, key: seal('{}').key, sha256: 'a'.repeat(64), extra: 1 }],
  ])('a key record with %s is refused', (_, record) => {
    expect(SealedKeySchema.safeParse(record).success).toBe(false)
  })
})

/** IPFS as a map, with its CID the one a test names. */
function memoryPayloads(): TaskPayloads & { gets: number; stored: Map<string, Uint8Array> } {
  const stored = new Map<string, Uint8Array>()
  const port = {
    gets: 0,
    stored,
    put: async (bytes: Uint8Array) => {
      stored.set(CID, bytes)
      return { cid: CID, size: bytes.length, sha256: sha256Hex(bytes) }
    },
    register: async () => {},
    get: async (cid: string) => {
      port.gets++
      return stored.get(cid)!
    },
  }
  return port
}

function memoryKept(): PrivatePayloads {
  const kept = new Map<string, unknown>()
  return new PrivatePayloads({
    callZome: (async (_zome: string, fn: string, arg: unknown) => {
      if (fn === 'keep_payload') {
        const { hash, content } = arg as { hash: string; content: unknown }
        kept.set(hash, content)
        return null
      }
      const content = kept.get(arg as string)
      return content === undefined ? null : { hash: arg, content }
    }) as never,
  })
}

describe('a sealed payload on IPFS', () => {
  it('is read back whole with its key record; a peer without the key reads nothing, and the bytes are fetched once', async () => {
    const ipfs = memoryPayloads()
    const output = { text: 'the answer is 42' }
    const { put, key } = await putSealed(ipfs, JSON.stringify(output))
    expect(put.cid).toBe(key.cid)
    expect(Buffer.from(ipfs.stored.get(CID)!).includes('answer')).toBe(false)
    expect((await getSealed(ipfs, key, CID)).content).toEqual(output)
    await expect(getSealed(ipfs, key, 'bafyother')).rejects.toThrow(/is for .*, not bafyother/)

    const kept = memoryKept()
    const hash = await kept.keep(key)
    expect(hash).toBe(payloadHash(key))
    const held = new HeldPayloads(kept, ipfs, silentLogger())
    ipfs.gets = 0
    const both = await Promise.all([held.get(hash, CID), held.get(hash, CID)])
    expect(both).toEqual([output, output])
    expect(await held.get(hash, CID)).toEqual(output)
    expect(ipfs.gets).toBe(1)
    const bystander = new HeldPayloads(memoryKept(), ipfs, silentLogger())
    expect(await bystander.get(hash, CID)).toBeUndefined()
  })

  it('one that does not open is not read (undefined), and is fetched again next time', async () => {
    const ipfs = memoryPayloads()
    const { key } = await putSealed(ipfs, '{"a":1}')
    const kept = memoryKept()
    const hash = await kept.keep({ ...key, key: seal('{}').key })
    const held = new HeldPayloads(kept, ipfs, silentLogger())
    expect(await held.get(hash, CID)).toBeUndefined()
    expect(await held.get(hash, CID)).toBeUndefined()
    expect(ipfs.gets).toBe(2)
  })

  it('is read the same from a salted envelope, inline or sealed, by the hash of the envelope', async () => {
    const ipfs = memoryPayloads()
    const output = { text: 'the answer is 42' }
    const { key } = await putSealed(ipfs, JSON.stringify(output))
    const kept = memoryKept()
    const held = new HeldPayloads(kept, ipfs, silentLogger())
    const sealedHash = await kept.keep(salted(key, 'ab'.repeat(32)))
    expect(sealedHash).not.toBe(payloadHash(key))
    expect(await held.get(sealedHash, CID)).toEqual(output)
    const inlineHash = await kept.keep(salted(output, 'ab'.repeat(32)))
    expect(await held.get(inlineHash, null)).toEqual(output)
  })
})
