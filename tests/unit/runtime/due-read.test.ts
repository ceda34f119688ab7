/** When a list read from the record is read again (host/runtime/due-read.ts). */
import { describe, expect, it } from 'vitest'
import { DueRead } from '../../../host/runtime/due-read.ts'

function counted(fallbackMs: number) {
  let now = 1_000
  const due = new DueRead(fallbackMs, () => now)
  let reads = 0
  const run = () => due.run(async () => void reads++)
  const pass = (ms: number) => {
    now += ms
  }
  return { due, run, reads: () => reads, pass }
}

describe('DueRead', () => {
  it('reads the first time, then not again until the fallback has passed', async () => {
    const t = counted(30_000)
    await t.run()
    for (let i = 0; i < 10; i++) {
      t.pass(2_000)
      await t.run()
    }
    expect(t.reads()).toBe(1)
    t.pass(10_000)
    await t.run()
    expect(t.reads()).toBe(2)
  })

  it('reads at once after a change is marked', async () => {
    const t = counted(30_000)
    await t.run()
    t.due.markStale()
    await t.run()
    expect(t.reads()).toBe(2)
  })

  it('reads again after a change marked while a read ran', async () => {
    const t = counted(30_000)
    await t.due.run(async () => t.due.markStale())
    await t.run()
    expect(t.reads()).toBe(1)
  })

  it('reads again at once after a read that failed', async () => {
    const t = counted(30_000)
    await expect(t.due.run(() => Promise.reject(new Error('no holder answered')))).rejects.toThrow()
    await t.run()
    expect(t.reads()).toBe(1)
  })

  it('with no fallback, reads every time', async () => {
    const t = counted(0)
    for (let i = 0; i < 3; i++) await t.run()
    expect(t.reads()).toBe(3)
  })
})
