import { describe, expect, it } from 'vitest'
import { resumingFetch } from '../../../host/ipfs/resuming-fetch.ts'

const BYTES = Uint8Array.from({ length: 10 }, (_, i) => i)

/** A source that serves BYTES from `offset` in chunks of 3, stalling (until aborted) where told. */
function source(stallAt: (attempt: number, offset: number) => boolean) {
  const calls: number[] = []
  const start = (offset: number, signal: AbortSignal) =>
    (async function* () {
      const attempt = calls.push(offset)
      for (let at = offset; at < BYTES.length; at += 3) {
        if (stallAt(attempt, at)) {
          await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
        }
        yield BYTES.slice(at, at + 3)
      }
    })()
  return { start, calls }
}

async function collect(iterable: AsyncIterable<Uint8Array>): Promise<number[]> {
  const out: number[] = []
  for await (const chunk of iterable) out.push(...chunk)
  return out
}

const options = { retryAfterMs: 30, idleMs: 300, onIdle: () => new Error('nothing arrived') }

describe('resumingFetch', () => {
  it('passes a transfer that never stalls through in one request', async () => {
    const s = source(() => false)
    expect(await collect(resumingFetch(s.start, options))).toEqual([...BYTES])
    expect(s.calls).toEqual([0])
  })

  it('asks again from the byte reached when a request stalls, and loses nothing', async () => {
    // The first request stalls after two chunks, the second at once, the third goes through.
    const s = source((attempt, offset) => (attempt === 1 && offset === 6) || (attempt === 2 && offset === 6))
    expect(await collect(resumingFetch(s.start, options))).toEqual([...BYTES])
    expect(s.calls).toEqual([0, 6, 6])
  })

  it('gives up with the idle error once nothing at all arrived for the idle time', async () => {
    const s = source((_attempt, offset) => offset === 3)
    const started = Date.now()
    await expect(collect(resumingFetch(s.start, options))).rejects.toThrow('nothing arrived')
    expect(Date.now() - started).toBeGreaterThanOrEqual(options.idleMs)
    // Retried every retryAfterMs meanwhile, always from byte 3.
    expect(s.calls.length).toBeGreaterThan(2)
    expect(new Set(s.calls.slice(1))).toEqual(new Set([3]))
  })

  it('stops at once when the caller aborts, with the caller’s reason', async () => {
    const s = source((_attempt, offset) => offset === 3)
    const caller = new AbortController()
    setTimeout(() => caller.abort(new Error('the client left')), 10)
    await expect(collect(resumingFetch(s.start, { ...options, signal: caller.signal }))).rejects.toThrow(
      'the client left',
    )
    expect(s.calls).toEqual([0])
  })
})
