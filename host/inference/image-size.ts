/**
 * An image's size in pixels read from its header (PNG's IHDR, JPEG's SOF, GIF's screen, WebP's VP8,
 * VP8L or VP8X, BMP's info header), never decoded: a few kilobytes can declare billions of pixels,
 * which the engine's decoder would try to allocate. Each peer bounds a request's images with it, the
 * one that takes the request and the runner alike, and takes no image whose size it cannot read.
 */

/** The most pixels (width × height) one image may have. */
export const MAX_IMAGE_PIXELS = 50_000_000

export interface ImageSize {
  width: number
  height: number
}

/** The size an image's header declares; null for a format not read here (or a header cut short). */
export function imageSize(bytes: Uint8Array): ImageSize | null {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const ascii = (from: number, to: number) => data.toString('latin1', from, to)
  try {
    if (ascii(1, 4) === 'PNG' && ascii(12, 16) === 'IHDR')
      return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) }
    if (ascii(0, 4) === 'GIF8') return { width: data.readUInt16LE(6), height: data.readUInt16LE(8) }
    if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return webpSize(data, ascii(12, 16))
    if (ascii(0, 2) === 'BM')
      return { width: Math.abs(data.readInt32LE(18)), height: Math.abs(data.readInt32LE(22)) }
    if (data[0] === 0xff && data[1] === 0xd8) return jpegSize(data)
  } catch (err) {
    if (err instanceof RangeError) return null
    throw err
  }
  return null
}

function webpSize(data: Buffer, chunk: string): ImageSize | null {
  if (chunk === 'VP8 ')
    return { width: data.readUInt16LE(26) & 0x3fff, height: data.readUInt16LE(28) & 0x3fff }
  if (chunk === 'VP8L') {
    const bits = data.readUInt32LE(21)
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 }
  }
  if (chunk === 'VP8X') return { width: data.readUIntLE(24, 3) + 1, height: data.readUIntLE(27, 3) + 1 }
  return null
}

/** The first frame header's size, walking the segments before it (metadata may come first). */
function jpegSize(data: Buffer): ImageSize | null {
  let at = 2
  while (at + 4 <= data.length) {
    if (data[at] !== 0xff) return null
    const marker = data[at + 1]!
    if (marker === 0xff) {
      at += 1 // fill byte
      continue
    }
    // Standalone markers (TEM, RST0-7) have no length.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2
      continue
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
    if (isFrame) return { width: data.readUInt16BE(at + 7), height: data.readUInt16BE(at + 5) }
    if (marker === 0xda) return null // scan data before any frame header
    at += 2 + data.readUInt16BE(at + 2)
  }
  return null
}

/** Why an image is not taken, and whether for its size (a 413) or its format (a 400). */
export interface ImageRefusal {
  tooLarge: boolean
  /** Reads after "image N is ". */
  why: string
}

/**
 * Why an image is not taken, or null when it is: a format whose size is not read here is refused too,
 * since the engine's decoder reads more formats (TGA, PSD, HDR, PNM, ...) than are bounded here.
 */
export function imageRefusal(bytes: Uint8Array): ImageRefusal | null {
  const size = imageSize(bytes)
  if (size === null)
    return {
      tooLarge: false,
      why: 'not a PNG, JPEG, GIF, WebP or BMP whose header gives its size, so its pixels cannot be bounded before decoding',
    }
  if (size.width * size.height <= MAX_IMAGE_PIXELS) return null
  const mega = (size.width * size.height) / 1e6
  return {
    tooLarge: true,
    why: `${size.width} × ${size.height} pixels (${mega.toFixed(1)} megapixels): at most ${MAX_IMAGE_PIXELS / 1e6} megapixels are taken`,
  }
}
