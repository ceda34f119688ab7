import { describe, expect, it } from 'vitest'
import { SerialQueue } from '../../../host/runtime/serial-queue.ts'

describe('SerialQueue', () => {
  it('runs jobs one at a time in the order queued, and a failed job does not stop the ones after it', async () => {
    const queue = new SerialQueue()
    const log: string[] = []
    const job =
      (name: string, ms: number, fail = false) =>
      async () => {
        log.push(`start ${name}`)
        await new Promise((resolve) => setTimeout(resolve, ms))
        log.push(`end ${name}`)
        if (fail) throw new Error(name)
        return name
      }
    const results = await Promise.allSettled([
      queue.run(job('slow', 20)),
      queue.run(job('bad', 1, true)),
      queue.run(job('fast', 1)),
    ])
    expect(log).toEqual(['start slow', 'end slow', 'start bad', 'end bad', 'start fast', 'end fast'])
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      'slow',
      'bad',
      'fast',
    ])
    expect(results[1]?.status).toBe('rejected')
  })
})
