/** A payload kept once, named by the hash of its canonical JSON, its size from the same bytes. */
import { describe, expect, it } from 'vitest'
import { payloadBytes, payloadDigest, payloadHash } from '../../../host/identity/payload-hash.ts'
import { PrivatePayloads } from '../../../host/scheduler/private-payloads.ts'

describe('payloadDigest', () => {
  it('gives the hash and size payloadHash and payloadBytes give, whatever the key order', () => {
    for (const payload of [null, { b: 1, a: 'é' }, { a: 'é', b: 1 }, [1, 2]])
      expect(payloadDigest(payload)).toEqual({
        hash: payloadHash(payload),
        bytes: payloadBytes(payload).length,
      })
  })
})

describe('PrivatePayloads', () => {
  it('writes a payload once, under its hash, and answers it from memory', async () => {
    const writes: unknown[] = []
    const conductor = {
      callZome: async (_zome: string, fn: string, arg: unknown) => {
        if (fn === 'keep_payload') writes.push(arg)
        return null
      },
    }
    const payloads = new PrivatePayloads(conductor as never)
    const hash = await payloads.keep({ b: 1, a: 2 })
    expect(hash).toBe(payloadHash({ a: 2, b: 1 }))
    expect(await payloads.keep({ a: 2, b: 1 })).toBe(hash)
    expect(writes).toEqual([{ hash, content: { b: 1, a: 2 } }])
    expect(await payloads.get(hash)).toEqual({ b: 1, a: 2 })
  })
})
