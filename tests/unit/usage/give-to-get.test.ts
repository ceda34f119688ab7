/**
 * Give to get (issue 47, point 4): a member's weight from the requests its public batches counted in
 * the last day, bounded, read once a minute; and the turns it buys at a busy runner.
 */
import { describe, expect, it } from 'vitest'
import { SlotTurns } from '../../../host/requests/direct/slot-turns.ts'
import { giveToGet, giveWeight, MAX_WEIGHT } from '../../../host/usage/give-to-get.ts'

const DAY_US = 24 * 3_600 * 1e6

describe('give to get', () => {
  it.each([
    [0, 1],
    [50, 1.5],
    [100, 2],
    [250, 3.5],
    [300, MAX_WEIGHT],
    [1_000_000, MAX_WEIGHT],
    [-5, 1],
  ])('served %i requests in a day: weight %d', (served, weight) => {
    expect(giveWeight(served)).toBe(weight)
  })

  it('reads the counts of the last day, once a minute', () => {
    let now = 1_800_000_000_000
    const asked: number[] = []
    let served = 100
    const weightOf = giveToGet(
      (since) => {
        asked.push(since)
        return new Map([['uhCAkSharer', served]])
      },
      () => now,
    )
    expect([weightOf('uhCAkSharer'), weightOf('uhCAkTaker')]).toEqual([2, 1])
    served = 300
    now += 59_999
    expect(weightOf('uhCAkSharer')).toBe(2)
    now += 1
    expect(weightOf('uhCAkSharer')).toBe(MAX_WEIGHT)
    expect(asked).toEqual([now - 60_000, now].map((t) => t * 1000 - DAY_US))
  })

  it('a member who served 300 requests takes 4 turns to one of a member who served none', async () => {
    const counts = new Map([['uhCAkSharer', 300]])
    const turns = new SlotTurns({
      self: 'uhCAkOwner',
      slotsOf: () => ({ slots: 1, busy: 0 }),
      weightOf: giveToGet(() => counts),
    })
    const options = { queue: true, signal: new AbortController().signal, waitMs: 60_000 }
    expect(await turns.take('m', 'uhCAkOwner', options)).toBe(true)
    const order: string[] = []
    const waiting = []
    for (let i = 0; i < 5; i++)
      for (const [member, name] of [
        ['uhCAkSharer', 'S'],
        ['uhCAkTaker', 'T'],
      ] as const)
        waiting.push(turns.take('m', member, options).then(() => order.push(name)))
    let holder = 'uhCAkOwner'
    for (let i = 0; i < 10; i++) {
      turns.release('m', holder)
      await Promise.resolve()
      await Promise.resolve()
      holder = order.at(-1) === 'S' ? 'uhCAkSharer' : 'uhCAkTaker'
    }
    await Promise.all(waiting)
    expect(order.join(' ')).toBe('S S S S T S T T T T')
  })
})
