/**
 * Passes a byte stream through while counting it and hashing it with sha256, so an import or a
 * download is checked without holding the bytes.
 */
import { createHash } from 'node:crypto'

export class ContentMeter {
  bytes = 0
  readonly #hash = createHash('sha256')

  constructor(private readonly onProgress?: (bytes: number) => void) {}

  async *through(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.#hash.update(chunk)
      this.bytes += chunk.byteLength
      this.onProgress?.(this.bytes)
      yield chunk
    }
  }

  /** Lowercase hex; call once, after the stream ended. */
  sha256(): string {
    return this.#hash.digest('hex')
  }
}
