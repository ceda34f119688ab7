/**
 * A fetch from IPFS that survives lost wants: what artifacts and memory snapshots read from peers go
 * through it.
 */
import { setMaxListeners } from 'node:events'

/** How a stalled transfer is retried and when it is given up. */
export interface ResumeOptions {
  /** A request that brings nothing for this long is asked again, from the byte reached. */
  retryAfterMs: number
  /** No byte at all for this long (across retries): the content is unavailable. */
  idleMs: number
  /** Names the error at `idleMs`. */
  onIdle: () => Error
  signal?: AbortSignal
}

/**
 * The bytes of `start(offset)`, asked again from the byte reached whenever a request stalls: a want
 * can be lost (bitswap drops a block that arrives before its listener does, and a holder may vanish
 * mid-transfer), and asking again sends a fresh want to every connected peer. Gives up with
 * `onIdle()` once nothing at all arrived for `idleMs`; the whole transfer may take as long as it goes.
 */
export async function* resumingFetch(
  start: (offset: number, signal: AbortSignal) => AsyncIterable<Uint8Array>,
  options: ResumeOptions,
): AsyncGenerator<Uint8Array> {
  let offset = 0
  let lastProgress = Date.now()
  for (;;) {
    options.signal?.throwIfAborted()
    const attempt = new AbortController()
    const signal = options.signal ? AbortSignal.any([options.signal, attempt.signal]) : attempt.signal
    // Bitswap listens on the signal once per block wanted: many listeners are expected here.
    setMaxListeners(0, signal)
    const stallMs = Math.min(options.retryAfterMs, Math.max(0, options.idleMs - (Date.now() - lastProgress)))
    let timer = setTimeout(() => attempt.abort(), stallMs)
    try {
      for await (const chunk of start(offset, signal)) {
        clearTimeout(timer)
        offset += chunk.byteLength
        lastProgress = Date.now()
        timer = setTimeout(() => attempt.abort(), options.retryAfterMs)
        yield chunk
      }
      return
    } catch (err) {
      if (options.signal?.aborted || !attempt.signal.aborted) throw err
      if (Date.now() - lastProgress >= options.idleMs) throw options.onIdle()
    } finally {
      clearTimeout(timer)
    }
  }
}
