/**
 * Passes a byte stream through while counting it and hashing it with sha256, so an import or a
 * download is checked without holding the bytes.
 */
import { createHash } from 'node:crypto'
import type { Progress } from '../interface/progress.ts'

export class ContentMeter {
  bytes = 0
  readonly #hash = createHash('sha256')

  readonly #progress: Pick<Progress, 'stage' | 'total'>
  readonly #onProgress: ((progress: Progress) => void) | undefined

  /** `progress`: what each chunk's progress says besides the bytes so far. */
  constructor(progress: Pick<Progress, 'stage' | 'total'>, onProgress?: (progress: Progress) => void) {
    this.#progress = progress
    this.#onProgress = onProgress
  }

  async *through(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.#hash.update(chunk)
      this.bytes += chunk.byteLength
      this.#onProgress?.({ ...this.#progress, done: this.bytes, unit: 'bytes' })
      yield chunk
    }
  }

  /** Lowercase hex; call once, after the stream ended. */
  sha256(): string {
    return this.#hash.digest('hex')
  }
}
