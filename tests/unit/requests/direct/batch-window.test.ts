/**
 * Windows of leaves sealed by one write each: closed at a boundary of a fixed grid or by count, every
 * leaf told its index, each window sealed with its slot's boundaries whenever its leaves came.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { BatchWindow, slotOf } from '../../../../host/requests/direct/batch-window.ts'

function recorder(windowMs: number, maxLeaves: number, fail = false) {
  const seals: string[][] = []
  const window = new BatchWindow<string, number>({
    windowMs,
    maxLeaves,
    seal: async (leaves, openedAt, closedAt) => {
      expect(closedAt).toBeGreaterThanOrEqual(openedAt)
      if (fail) throw new Error('the store is full')
      seals.push(leaves)
      return seals.length
    },
  })
  return { window, seals }
}

describe('BatchWindow', () => {
  it('seals the leaves added within a window once, each with its index', async () => {
    const { window, seals } = recorder(30, 100)
    const sealed = await Promise.all(['a', 'b', 'c'].map((l) => window.add(l)))
    expect(seals).toEqual([['a', 'b', 'c']])
    expect(sealed).toEqual([0, 1, 2].map((index) => ({ index, sealed: 1 })))
  })

  it('closes a window at its size, and the next leaf opens another', async () => {
    const { window, seals } = recorder(10_000, 2)
    const first = await Promise.all([window.add('a'), window.add('b')])
    const third = window.add('c')
    await window.flush()
    expect(seals).toEqual([['a', 'b'], ['c']])
    expect(first.map((s) => s.sealed)).toEqual([1, 1])
    expect(await third).toEqual({ index: 0, sealed: 2 })
  })

  it('closes at 256 leaves by default (the runner and the requester share the window size)', async () => {
    const seals: number[] = []
    const window = new BatchWindow<number, number>({ seal: async (leaves) => seals.push(leaves.length) })
    const full = await Promise.all(Array.from({ length: 256 }, (_, i) => window.add(i)))
    expect(seals).toEqual([256])
    expect(full.at(-1)).toEqual({ index: 255, sealed: 1 })
  })

  it('seals what is open at flush, without waiting for the window', async () => {
    const { window, seals } = recorder(60_000, 100)
    const pending = window.add('a')
    await window.flush()
    expect(seals).toEqual([['a']])
    expect(await pending).toEqual({ index: 0, sealed: 1 })
  })

  it('a failed seal fails every leaf of its window', async () => {
    const { window } = recorder(10, 100, true)
    const results = await Promise.allSettled([window.add('a'), window.add('b')])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
  })

  describe('on a grid every peer shares', () => {
    afterEach(() => vi.useRealTimers())

    it.each([
      [0, 1000, 0, 1000],
      [999, 1000, 0, 1000],
      [1000, 1000, 1000, 2000],
      [1_763_700_012_345, 10_000, 1_763_700_010_000, 1_763_700_020_000],
    ])('the slot of %i on a grid of %i ms is [%i, %i)', (at, windowMs, start, end) => {
      expect(slotOf(at, windowMs)).toEqual({ start, end })
    })

    it('seals a window with its slot, whenever in the slot its leaf came, at the slot’s end', async () => {
      vi.useFakeTimers()
      const SLOT = 1_763_700_010_000
      const sealedWith: [number, number, number][] = []
      const window = new BatchWindow<string, number>({
        windowMs: 10_000,
        seal: async (leaves, openedAt, closedAt) => sealedWith.push([leaves.length, openedAt, closedAt]),
      })
      for (const offset of [17, 9_981]) {
        vi.setSystemTime(SLOT + offset)
        const sealed = window.add('a leaf')
        await vi.advanceTimersByTimeAsync(10_000 - offset - 1)
        expect(sealedWith).toHaveLength(0)
        await vi.advanceTimersByTimeAsync(1)
        await sealed
        expect(sealedWith).toEqual([[1, SLOT * 1000, (SLOT + 10_000) * 1000]])
        sealedWith.length = 0
      }
    })
  })

  describe('on every slot (a requester’s cover)', () => {
    afterEach(() => vi.useRealTimers())
    const SLOT = 1_763_700_010_000

    function everySlot(maxLeaves = 100) {
      const sealedWith: [string[], number, number][] = []
      const window = new BatchWindow<string, number>({
        windowMs: 10_000,
        maxLeaves,
        everySlot: true,
        seal: async (leaves, openedAt, closedAt) =>
          sealedWith.push([leaves, (openedAt / 1000 - SLOT) / 10_000, (closedAt / 1000 - SLOT) / 10_000]),
      })
      return { window, sealedWith }
    }

    it('seals one window at the end of every slot, empty or not, the slot under way at flush, and none before start or after', async () => {
      vi.useFakeTimers()
      vi.setSystemTime(SLOT + 4_000)
      const { window, sealedWith } = everySlot()
      await vi.advanceTimersByTimeAsync(30_000)
      expect(sealedWith).toEqual([])
      window.start()
      window.start()
      // Started in slot 3 (slots numbered from SLOT); a leaf comes in slot 4 only.
      await vi.advanceTimersByTimeAsync(10_000)
      const leaf = window.add('asked')
      await vi.advanceTimersByTimeAsync(20_000)
      expect(await leaf).toEqual({ index: 0, sealed: 2 })
      expect(sealedWith).toEqual([
        [[], 3, 4],
        [['asked'], 4, 5],
        [[], 5, 6],
      ])
      await window.flush()
      // Stopped in slot 6 with no leaf in it: signed all the same, as a stop in a slot with one would be.
      expect(sealedWith[3]).toEqual([[], 6, 7])
      await vi.advanceTimersByTimeAsync(30_000)
      expect(sealedWith).toHaveLength(4)
    })

    it('a leaf that comes while no schedule runs (not started, or stopped) still has its window sealed', async () => {
      vi.useFakeTimers()
      vi.setSystemTime(SLOT + 1_000)
      const { window, sealedWith } = everySlot()
      const leaf = window.add('early')
      await vi.advanceTimersByTimeAsync(9_000)
      expect(await leaf).toEqual({ index: 0, sealed: 1 })
      expect(sealedWith).toEqual([[['early'], 0, 1]])
    })

    it('a slot whose window filled early is not signed again empty; the rest of it opens another', async () => {
      vi.useFakeTimers()
      vi.setSystemTime(SLOT + 1_000)
      const { window, sealedWith } = everySlot(2)
      window.start()
      await Promise.all([window.add('a'), window.add('b')])
      await vi.advanceTimersByTimeAsync(9_000)
      expect(sealedWith).toEqual([[['a', 'b'], 0, 1]])
      window.add('c')
      await vi.advanceTimersByTimeAsync(20_000)
      expect(sealedWith).toEqual([
        [['a', 'b'], 0, 1],
        [['c'], 1, 2],
        [[], 2, 3],
      ])
      window.stopSchedule()
    })

    it('a timer that fires before the wall clock reaches the slot’s end waits out the rest of it', async () => {
      vi.useFakeTimers()
      vi.setSystemTime(SLOT + 1_000)
      const { window, sealedWith } = everySlot()
      window.start()
      // The wall clock is set back a little while the timer runs (as it may drift from the timers').
      await vi.advanceTimersByTimeAsync(5_000)
      vi.setSystemTime(SLOT + 5_998)
      await vi.advanceTimersByTimeAsync(4_000)
      expect(sealedWith).toEqual([])
      await vi.advanceTimersByTimeAsync(2)
      expect(sealedWith).toEqual([[[], 0, 1]])
      window.stopSchedule()
    })
  })
})
