import { streamPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { FrameLengthError, framedStream, frameLength } from '../../../host/net/framed-stream.ts'

const caught = (bytes: number[]) => {
  try {
    return frameLength(Uint8Array.from(bytes))
  } catch (err) {
    return err
  }
}

describe('frameLength', () => {
  it.each([
    [[0x00], 0],
    [[0x05], 5],
    [[0x7f], 127],
    [[0x80, 0x01], 128],
    [[0xac, 0x02], 300],
    [[0xff, 0xff, 0xff, 0x0f], 2 ** 25 - 1],
    [[0x80, 0x80, 0x80, 0x80, 0x80, 0x01], 2 ** 35],
    [[0x05, 0xff], 5],
  ])('reads %j as %i', (bytes, length) => {
    expect(frameLength(Uint8Array.from(bytes))).toBe(length)
  })

  it('throws one RangeError, made once, while a length is still arriving', () => {
    const first = caught([0x80])
    expect(first).toBeInstanceOf(RangeError)
    expect(caught([0xff, 0xff, 0xff])).toBe(first)
    expect(caught([])).toBe(first)
  })

  it('refuses a length that runs past 8 bytes, with an error lpStream does not read on through', () => {
    const err = caught(Array(8).fill(0xff))
    expect(err).toBeInstanceOf(FrameLengthError)
    expect(err).not.toBeInstanceOf(RangeError)
  })
})

describe('framedStream', () => {
  it('carries frames of every length class, their lengths split over separate writes too', async () => {
    const [a, b] = await streamPair()
    const out = framedStream(a)
    const into = framedStream(b)
    const sizes = [0, 1, 127, 128, 300, 16_384, 70_000]
    await out.writeV(sizes.map((n) => new Uint8Array(n).fill(n % 251)))
    for (const n of sizes) {
      const frame = (await into.read()).subarray()
      expect(frame.byteLength).toBe(n)
      expect(frame.every((x) => x === n % 251)).toBe(true)
    }
    // A 300-byte frame whose length's two bytes arrive in two sends.
    a.send(Uint8Array.of(0xac))
    await new Promise((resolve) => setTimeout(resolve, 10))
    a.send(Uint8Array.of(0x02))
    a.send(new Uint8Array(300).fill(7))
    expect((await into.read()).subarray()).toEqual(new Uint8Array(300).fill(7))
  })

  it('fails a read whose length never ends, where lpStream alone reads on', async () => {
    const [a, b] = await streamPair()
    const into = framedStream(b)
    for (let i = 0; i < 12; i++) a.send(Uint8Array.of(0xff))
    await expect(into.read()).rejects.toBeInstanceOf(FrameLengthError)
  })
})
