/**
 * A slot's timer that fires late, after the next slot began and a leaf opened that slot's window (a
 * busy event loop): the late slot gets its own cover, and the open window keeps its leaves, sealed on
 * its own slot. Before, the late slot's cover replaced the open window and its leaves were never sealed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { BatchWindow } from '../../../../host/requests/direct/batch-window.ts'

afterEach(() => {
  vi.useRealTimers()
})

/** A window sealed every second, and what each seal got (its slot's start in ms). */
function everySecond() {
  const seals: { leaves: string[]; openedAt: number }[] = []
  const window = new BatchWindow<string, number>({
    windowMs: 1000,
    everySlot: true,
    seal: async (leaves, openedAt) => {
      seals.push({ leaves: [...leaves], openedAt: openedAt / 1000 })
      return seals.length
    },
  })
  return { window, seals }
}

describe('a schedule of every slot whose timer fires late', () => {
  it('seals the late slot’s cover apart and keeps the leaves of the window already open', async () => {
    vi.useFakeTimers({ now: 10_000 })
    const { window, seals } = everySecond()
    window.start()
    // The clock passes the slot's end (11 000) before its timer runs; a leaf opens the next slot's window.
    vi.setSystemTime(11_500)
    const sealed = window.add('a request')
    await vi.advanceTimersByTimeAsync(1000)
    await vi.advanceTimersByTimeAsync(1000)
    expect(await sealed).toEqual({ index: 0, sealed: 2 })
    expect(seals.slice(0, 2)).toEqual([
      { leaves: [], openedAt: 10_000 },
      { leaves: ['a request'], openedAt: 11_000 },
    ])
    window.stopSchedule()
  })

  it('signs every slot it ran through, one with a leaf and the empty ones alike, and no more than 16', async () => {
    vi.useFakeTimers({ now: 10_000 })
    const { window, seals } = everySecond()
    window.start()
    // The loop stalls through slots 10-13 s; a leaf came in 12 s. Before, 11 s and 13 s went unsigned
    // while 12 s (asked in) was signed: the gap marked the slot with a request.
    vi.setSystemTime(12_500)
    const sealed = window.add('a request')
    // (Fake timers run on their own clock: the first slot's timer fires a second on, at 14.2 s.)
    vi.setSystemTime(13_200)
    await vi.advanceTimersByTimeAsync(1000)
    expect(await sealed).toMatchObject({ index: 0 })
    expect(seals.map((s) => s.openedAt)).toEqual([10_000, 11_000, 12_000, 13_000])
    expect(seals[2]!.leaves).toEqual(['a request'])
    // A machine asleep for a minute signs the last 16 slots only, as one offline signs none.
    vi.setSystemTime(74_300)
    await vi.advanceTimersByTimeAsync(1000)
    const late = seals.slice(4).map((s) => s.openedAt)
    expect(late).toEqual(Array.from({ length: 16 }, (_, i) => 59_000 + i * 1000))
    await window.flush()
  })
})
