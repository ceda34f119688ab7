/**
 * An image's size read from its header, never decoded, for each format the APIs take; and the bound on
 * its pixels that the peer taking a request and the runner both apply.
 */
import { describe, expect, it } from 'vitest'
import { imageRefusal, imageSize, MAX_IMAGE_PIXELS } from '../../../host/inference/image-size.ts'
import { pngDeclaring, tinyPng } from '../../fixtures/tiny-png.ts'

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))))
const le16 = (n: number) => [n & 0xff, n >> 8]
const be16 = (n: number) => [n >> 8, n & 0xff]
const le24 = (n: number) => [n & 0xff, (n >> 8) & 0xff, n >> 16]
const le32 = (n: number) => [...le16(n & 0xffff), ...le16(n >>> 16)]

describe('imageSize', () => {
  it.each<[string, Buffer, { width: number; height: number } | null]>([
    ['PNG', tinyPng(7, 5), { width: 7, height: 5 }],
    ['PNG declaring 20,000 × 20,000', pngDeclaring(20_000, 20_000), { width: 20_000, height: 20_000 }],
    ['GIF', bytes('GIF89a', le16(640), le16(480), [0, 0, 0]), { width: 640, height: 480 }],
    [
      'JPEG, its frame header after an APP0 segment and fill bytes',
      bytes(
        [0xff, 0xd8, 0xff, 0xe0],
        be16(6),
        'JFIF',
        [0xff, 0xff, 0xc0],
        be16(11),
        [8],
        be16(300),
        be16(400),
      ),
      { width: 400, height: 300 },
    ],
    [
      'progressive JPEG (SOF2)',
      bytes([0xff, 0xd8, 0xff, 0xc2], be16(11), [8], be16(9_000), be16(9_000)),
      { width: 9_000, height: 9_000 },
    ],
    ['JPEG with a scan before any frame', bytes([0xff, 0xd8, 0xff, 0xda], be16(2), [0, 0]), null],
    [
      'WebP (VP8)',
      bytes('RIFF', le32(0), 'WEBPVP8 ', le32(0), [0, 0, 0, 0x9d, 0x01, 0x2a], le16(320), le16(240)),
      { width: 320, height: 240 },
    ],
    [
      'WebP (VP8L)',
      bytes('RIFF', le32(0), 'WEBPVP8L', le32(0), [0x2f], le32((100 - 1) | ((50 - 1) << 14))),
      { width: 100, height: 50 },
    ],
    [
      'WebP (VP8X)',
      bytes('RIFF', le32(0), 'WEBPVP8X', le32(10), le32(0), le24(16_383), le24(65_535)),
      { width: 16_384, height: 65_536 },
    ],
    [
      'BMP (bottom-up: a negative height)',
      bytes('BM', new Array(16).fill(0), le32(800), le32(-600 >>> 0)),
      { width: 800, height: 600 },
    ],
    ['a PNG cut short', tinyPng().subarray(0, 18), null],
    ['not an image', Buffer.from('hello'), null],
  ])('%s', (_, image, size) => {
    expect(imageSize(image)).toEqual(size)
  })
})

describe('imageRefusal', () => {
  it('takes up to 50 megapixels; refuses more, naming the size, from the header alone (a 413)', () => {
    expect(MAX_IMAGE_PIXELS).toBe(50_000_000)
    expect(imageRefusal(tinyPng())).toBeNull()
    expect(imageRefusal(pngDeclaring(10_000, 5_000))).toBeNull()
    expect(imageRefusal(pngDeclaring(10_000, 5_001))?.why).toMatch(/^10000 × 5001 pixels/)
    const over = pngDeclaring(20_000, 20_000)
    expect(over.length).toBeLessThan(1_000)
    expect(imageRefusal(over)).toEqual({
      tooLarge: true,
      why: '20000 × 20000 pixels (400.0 megapixels): at most 50 megapixels are taken',
    })
  })

  it.each<[string, Buffer]>([
    // Formats llama.cpp's decoder (stb_image) reads whose size is not read here: a small file may
    // declare any size in them.
    ['a TGA', bytes([0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0], le16(65_535), le16(65_535), [24, 0])],
    ['a PSD', bytes('8BPS', [0, 1, 0, 0, 0, 0, 0, 0, 0, 3], [0, 0, 0xff, 0xff, 0, 0, 0xff, 0xff])],
    ['a PNM', bytes('P6\n30000 30000\n255\n')],
    ['a PNG cut short', tinyPng().subarray(0, 18)],
    ['not an image', Buffer.from('hello')],
  ])('refuses %s as a format whose size it cannot bound (a 400)', (_, image) => {
    expect(imageRefusal(image)).toEqual({
      tooLarge: false,
      why: expect.stringMatching(/^not a PNG, JPEG, GIF, WebP or BMP whose header gives its size/),
    })
  })
})
