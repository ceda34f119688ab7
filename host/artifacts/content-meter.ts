/**
 * Passes a byte stream through while counting it and hashing it with sha256, so an import or a
 * download is checked without holding the bytes.
 */
import { createHash } from 'node:crypto'
import { setMaxListeners } from 'node:events'

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

/**
 * Aborts when `source` yields nothing for `idleMs` (the whole transfer may take long; silence may
 * not). `onIdle` names the error.
 */
export async function* idleTimeout<T>(
  start: (signal: AbortSignal) => AsyncIterable<T>,
  idleMs: number,
  onIdle: () => Error,
  signal?: AbortSignal,
): AsyncGenerator<T> {
  const idle = new AbortController()
  let timer = setTimeout(() => idle.abort(), idleMs)
  const combined = signal ? AbortSignal.any([signal, idle.signal]) : idle.signal
  // Bitswap listens on the signal once per block wanted: many listeners are expected here.
  setMaxListeners(0, combined)
  try {
    for await (const item of start(combined)) {
      clearTimeout(timer)
      timer = setTimeout(() => idle.abort(), idleMs)
      yield item
    }
  } catch (err) {
    if (idle.signal.aborted && !signal?.aborted) throw onIdle()
    throw err
  } finally {
    clearTimeout(timer)
  }
}
