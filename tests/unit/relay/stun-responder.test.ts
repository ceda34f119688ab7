import { describe, expect, it } from 'vitest'
import { bindingResponse } from '../../../host/relay/stun-responder.ts'

const txid = Buffer.from('b7e7a701bc34d686fa87dfae', 'hex')
const request = (type: number, cookie = 0x2112a442) => {
  const bytes = Buffer.alloc(20)
  bytes.writeUInt16BE(type, 0)
  bytes.writeUInt32BE(cookie, 4)
  txid.copy(bytes, 8)
  return new Uint8Array(bytes)
}

describe('STUN binding responder', () => {
  it("answers a binding request with the sender's address, XORed as RFC 5769's IPv4 vector", () => {
    const response = Buffer.from(
      bindingResponse(request(0x0001), { address: '192.0.2.1', port: 32853, family: 'IPv4' })!,
    )
    expect(response.readUInt16BE(0)).toBe(0x0101)
    expect(response.readUInt16BE(2)).toBe(12)
    expect(response.subarray(8, 20)).toEqual(txid)
    // XOR-MAPPED-ADDRESS, IPv4, port 32853 ^ 0x2112, address 192.0.2.1 ^ magic cookie.
    expect(response.subarray(20).toString('hex')).toBe('002000080001a147e112a643')
  })

  it('ignores what is not a binding request', () => {
    const from = { address: '192.0.2.1', port: 1, family: 'IPv4' } as const
    expect(bindingResponse(request(0x0101), from)).toBeNull()
    expect(bindingResponse(request(0x0001, 0), from)).toBeNull()
    expect(bindingResponse(new Uint8Array(8), from)).toBeNull()
    expect(bindingResponse(request(0x0001), { ...from, family: 'IPv6' })).toBeNull()
  })
})
