/** Loads shared by their callers: one start, progress to each, stopped only when all give up. */
import { describe, expect, it } from 'vitest'
import { SharedLoads } from '../../../host/inference/shared-load.ts'
import type { LongOperationOptions, Progress } from '../../../host/interface/progress.ts'

const half: Progress = { stage: 'load', done: 50, total: 100, unit: 'percent' }

/** A load that reports half, then waits: `finish` ends it, its signal is kept. */
function pendingLoad() {
  const done = Promise.withResolvers<string>()
  const load = {
    starts: 0,
    signal: null as AbortSignal | null,
    finish: (value: string) => done.resolve(value),
    fail: (err: unknown) => done.reject(err),
    start: ({ signal, onProgress }: Required<LongOperationOptions>) => {
      load.starts++
      load.signal = signal
      onProgress(half)
      return done.promise
    },
  }
  return load
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: unknown) => err,
  )

describe('SharedLoads', () => {
  it('starts one load for every caller of a key, and gives each its progress', async () => {
    const loads = new SharedLoads<string>()
    const load = pendingLoad()
    const seen: string[] = []
    const a = loads.join('m', { onProgress: () => seen.push('a') }, load.start)
    const b = loads.join('m', { onProgress: () => seen.push('b') }, load.start)
    load.finish('model')
    expect(await Promise.all([a, b])).toEqual(['model', 'model'])
    expect(load.starts).toBe(1)
    // The load reported before `b` joined: only `a` was there.
    expect(seen).toEqual(['a'])
    // Ended: the next caller starts another.
    const again = pendingLoad()
    const c = loads.join('m', {}, again.start)
    again.finish('other')
    expect(await c).toBe('other')
  })

  it('answers a caller that gives up at once, and goes on for one that still waits', async () => {
    const loads = new SharedLoads<string>()
    const load = pendingLoad()
    const leaving = new AbortController()
    const left = loads.join('m', { signal: leaving.signal }, load.start)
    const staying = loads.join('m', {}, load.start)
    leaving.abort()
    expect(await rejection(left)).toMatchObject({ name: 'AbortError' })
    expect(load.signal?.aborted).toBe(false)
    load.finish('model')
    expect(await staying).toBe('model')
  })

  it('stops the load when its last caller gives up, and answers once the load has ended', async () => {
    const loads = new SharedLoads<string>()
    const load = pendingLoad()
    const a = new AbortController()
    const b = new AbortController()
    const first = loads.join('m', { signal: a.signal }, load.start)
    const second = loads.join('m', { signal: b.signal }, load.start)
    a.abort()
    expect(load.signal?.aborted).toBe(false)
    b.abort(new DOMException('gone', 'AbortError'))
    expect(load.signal?.aborted).toBe(true)
    let answered = false
    const secondError = rejection(second).finally(() => {
      answered = true
    })
    expect(await rejection(first)).toMatchObject({ name: 'AbortError' })
    await new Promise((r) => setTimeout(r, 10))
    expect(answered).toBe(false)
    // Even a load that ends well after the abort answers its aborted caller with the abort.
    load.finish('model')
    expect(await secondError).toMatchObject({ name: 'AbortError', message: 'gone' })
    await loads.settled()
  })

  it('lets a caller join afresh while a stopped load still ends, and waits for both when settling', async () => {
    const loads = new SharedLoads<string>()
    const stopped = pendingLoad()
    const stop = new AbortController()
    const first = loads.join('m', { signal: stop.signal }, stopped.start)
    stop.abort()
    const fresh = pendingLoad()
    const second = loads.join('m', {}, fresh.start)
    expect(fresh.starts).toBe(1)
    let settled = false
    const settling = loads.settled('m').then(() => {
      settled = true
    })
    fresh.finish('model')
    expect(await second).toBe('model')
    await new Promise((r) => setTimeout(r, 10))
    expect(settled).toBe(false)
    stopped.fail(new DOMException('stopped', 'AbortError'))
    await settling
    expect(await rejection(first)).toMatchObject({ name: 'AbortError' })
  })

  it('refuses a caller whose signal is already aborted without starting anything', async () => {
    const loads = new SharedLoads<string>()
    const load = pendingLoad()
    expect(await rejection(loads.join('m', { signal: AbortSignal.abort() }, load.start))).toMatchObject({
      name: 'AbortError',
    })
    expect(load.starts).toBe(0)
  })

  it('passes a failed load on to every caller', async () => {
    const loads = new SharedLoads<string>()
    const load = pendingLoad()
    const a = loads.join('m', {}, load.start)
    const b = loads.join('m', { signal: new AbortController().signal }, load.start)
    load.fail(new Error('refused'))
    expect(await rejection(a)).toMatchObject({ message: 'refused' })
    expect(await rejection(b)).toMatchObject({ message: 'refused' })
  })
})
