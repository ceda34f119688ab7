import { randomBytes } from 'node:crypto'
import {
  decodeHashFromBase64,
  dhtLocationFrom32,
  encodeHashToBase64,
  HoloHashType,
  hashFrom32AndType,
  sliceDhtLocation,
} from '@holochain/client'
import { describe, expect, it } from 'vitest'
import {
  decodeHashB64,
  encodeHashB64,
  type HoloHashKind,
  hashContent,
  holoHashFrom32,
  holoHashKind,
  InvalidHoloHashError,
} from '../../../host/identity/hash.ts'

const CLIENT_TYPES: Record<HoloHashKind, HoloHashType> = {
  agent: HoloHashType.Agent,
  entry: HoloHashType.Entry,
  action: HoloHashType.Action,
  dna: HoloHashType.Dna,
}

describe('HoloHash', () => {
  it.each(Object.keys(CLIENT_TYPES) as HoloHashKind[])(
    '%s hashes match @holochain/client byte for byte',
    (kind) => {
      for (let i = 0; i < 20; i++) {
        const core = new Uint8Array(randomBytes(32))
        const ours = holoHashFrom32(core, kind)
        expect(ours).toHaveLength(39)
        expect(hashFrom32AndType(core, CLIENT_TYPES[kind])).toEqual(ours)
        expect(sliceDhtLocation(ours)).toEqual(dhtLocationFrom32(core))
        const b64 = encodeHashB64(ours)
        expect(b64).toBe(encodeHashToBase64(ours))
        expect(encodeHashToBase64(decodeHashFromBase64(b64))).toBe(b64)
        expect(decodeHashB64(b64, kind)).toEqual(ours)
        expect(holoHashKind(ours)).toBe(kind)
      }
    },
  )

  it('hashes content with blake2b-256 and the right prefix', () => {
    const hash = hashContent(new TextEncoder().encode('hello'), 'entry')
    expect(Array.from(hash.subarray(0, 3))).toEqual([0x84, 0x21, 0x24])
    expect(encodeHashB64(hash)).toMatch(/^uhCEk/)
    expect(hashContent(new TextEncoder().encode('hello'), 'entry')).toEqual(hash)
  })

  it('refuses malformed hashes and the wrong kind', () => {
    const hash = hashContent(new Uint8Array([1, 2, 3]), 'action')
    const badLocation = hash.slice()
    badLocation[38]! ^= 0xff
    expect(holoHashKind(badLocation)).toBeNull()
    expect(() => decodeHashB64(encodeHashB64(badLocation))).toThrow(InvalidHoloHashError)
    expect(() => decodeHashB64(encodeHashB64(hash), 'agent')).toThrow(
      /expected a agent hash, got a action hash/,
    )
    expect(() => decodeHashB64('not-a-hash')).toThrow(InvalidHoloHashError)
  })
})
