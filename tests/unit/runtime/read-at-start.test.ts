/**
 * A start's read whose holders do not answer: tried again in the background, backing off, warned of
 * once, until it succeeds or the service stops; any other failure is the caller's. On a fake clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ReadsTimedOutError } from '../../../host/conductor/embedded/errors.ts'
import { type ReadAtStartInit, readAtStart } from '../../../host/runtime/read-at-start.ts'

/** A read that fails as holders not answering in time does `failures` times, then answers `value`. */
function flaky(failures: number, value = 'tasks') {
  const reads = { count: 0 }
  const read = async () => {
    reads.count++
    if (reads.count <= failures) throw new ReadsTimedOutError('resource_mesh', 30_000)
    return value
  }
  return { read, reads }
}

function logged() {
  const warn = vi.fn()
  const info = vi.fn()
  return { warn, info, logger: { warn, info } as unknown as ReadAtStartInit['logger'] }
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('readAtStart', () => {
  it('hands over what the first read gives before it resolves, and warns of nothing', async () => {
    const { read } = flaky(0)
    const used: string[] = []
    const { logger, warn } = logged()
    await readAtStart(read, (v) => used.push(v), { what: 'x', signal: new AbortController().signal, logger })
    expect(used).toEqual(['tasks'])
    expect(warn).not.toHaveBeenCalled()
  })

  it('resolves when the holders do not answer, reads again after 1, 2, 4 s and hands over what it got, warned once', async () => {
    const { read, reads } = flaky(3)
    const used: string[] = []
    const { logger, warn, info } = logged()
    await readAtStart(read, (v) => used.push(v), { what: 'x', signal: new AbortController().signal, logger })
    expect([reads.count, used]).toEqual([1, []])
    await vi.advanceTimersByTimeAsync(999)
    expect(reads.count).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(reads.count).toBe(2)
    await vi.advanceTimersByTimeAsync(2_000)
    expect([reads.count, used]).toEqual([3, []])
    await vi.advanceTimersByTimeAsync(4_000)
    expect([reads.count, used]).toEqual([4, ['tasks']])
    expect(warn).toHaveBeenCalledTimes(1)
    expect(info).toHaveBeenCalledTimes(1)
    // Read: no more tries.
    await vi.advanceTimersByTimeAsync(60_000)
    expect(reads.count).toBe(4)
  })

  it('waits at most 30 s between reads', async () => {
    const { read, reads } = flaky(Number.POSITIVE_INFINITY)
    const { logger } = logged()
    await readAtStart(read, () => {}, { what: 'x', signal: new AbortController().signal, logger })
    // 1 + 2 + 4 + 8 + 16 s, then every 30 s.
    await vi.advanceTimersByTimeAsync(31_000)
    expect(reads.count).toBe(6)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(reads.count).toBe(8)
  })

  it('reads no more once stopped, and drops what a read in flight then brings', async () => {
    const stop = new AbortController()
    let answer: (value: string) => void = () => {}
    const reads = { count: 0 }
    const read = () => {
      reads.count++
      if (reads.count === 1) return Promise.reject(new ReadsTimedOutError('resource_mesh', 30_000))
      return new Promise<string>((resolve) => {
        answer = resolve
      })
    }
    const used: string[] = []
    const { logger } = logged()
    await readAtStart(read, (v) => used.push(v), { what: 'x', signal: stop.signal, logger })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(reads.count).toBe(2)
    stop.abort()
    answer('tasks')
    await vi.advanceTimersByTimeAsync(60_000)
    expect([reads.count, used]).toEqual([2, []])
  })

  it('reads no more when stopped while it waits to read again', async () => {
    const stop = new AbortController()
    const { read, reads } = flaky(Number.POSITIVE_INFINITY)
    const { logger } = logged()
    await readAtStart(read, () => {}, { what: 'x', signal: stop.signal, logger })
    stop.abort()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(reads.count).toBe(1)
    // Its wait's timer was cleared, not left to run out.
    expect(vi.getTimerCount()).toBe(0)
  })

  it('rejects at start on a failure more reads would not mend, and gives up on one later with a warning', async () => {
    const { logger, warn } = logged()
    const signal = new AbortController().signal
    const refused = () => Promise.reject(new TypeError('not a list'))
    await expect(readAtStart(refused, () => {}, { what: 'x', signal, logger })).rejects.toThrow('not a list')
    expect(warn).not.toHaveBeenCalled()

    let count = 0
    const later = () => {
      count++
      return Promise.reject(
        count === 1 ? new ReadsTimedOutError('resource_mesh', 30_000) : new TypeError('bad'),
      )
    }
    await readAtStart(later, () => {}, { what: 'x', signal, logger })
    await vi.advanceTimersByTimeAsync(60_000)
    expect(count).toBe(2)
    expect(warn).toHaveBeenCalledTimes(2)
  })
})
