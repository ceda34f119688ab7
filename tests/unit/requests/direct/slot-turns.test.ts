import { describe, expect, it } from 'vitest'
import { SlotTurns } from '../../../../host/requests/direct/slot-turns.ts'

const ME = 'me'
const LONG = 60_000

/** A runner's model with `slots`, `full` of them taken by `x` to begin with. */
async function runner(slots: number, full = slots) {
  const engine = { busy: 0 }
  const turns = new SlotTurns({ self: ME, slotsOf: () => ({ slots, busy: engine.busy }), pollMs: 5 })
  const order: string[] = []
  const take = async (member: string, queue = true, signal = new AbortController().signal, waitMs = LONG) => {
    const took = await turns.take('m', member, { queue, signal, waitMs })
    if (took) order.push(member)
    return took
  }
  for (let i = 0; i < full; i++) await turns.take('m', 'x', { queue: false, signal, waitMs: 0 })
  order.length = 0
  return { engine, turns, order, take, release: (member = 'x') => turns.release('m', member) }
}
const signal = new AbortController().signal
const settle = () => new Promise((resolve) => setTimeout(resolve, 20))

describe('turns at a runner’s slots', () => {
  it('with every slot busy: the owner first, then the swarm and the single loop take turns', async () => {
    const r = await runner(4)
    const waits = [...Array.from({ length: 16 }, () => r.take('a')), r.take('b'), r.take(ME)]
    expect(r.turns.context('m', 'b')).toEqual({
      owner: false,
      slots: 4,
      held_back: 0,
      running: 4,
      others_running: 4,
      owner_waiting: 1,
      others_waiting: 17,
    })
    for (let i = 0; i < 4; i++) r.release()
    r.release('a')
    r.release('a')
    await settle()
    expect(r.order).toEqual([ME, 'a', 'b', 'a', 'a', 'a'])
    expect(r.turns.context('m', ME)).toMatchObject({ owner: true, running: 4, others_running: 3 })
    for (let i = 0; i < 12; i++) r.release('a')
    await Promise.all(waits)
    expect(r.order).toHaveLength(18)
  })

  it('a free slot is taken at once when nobody waits; while others wait only the owner passes them', async () => {
    const r = await runner(1, 0)
    expect(await r.take('a')).toBe(true)
    expect(await r.take('a', false)).toBe(false)
    const queued = r.take('b')
    // The engine runs more than this count knows (a scheduled task): the slot frees when it ends.
    r.engine.busy = 1
    r.release('a')
    expect(await r.take('c', false)).toBe(false)
    expect(await r.take(ME, false)).toBe(false)
    r.engine.busy = 0
    expect(await queued).toBe(true)
    expect(r.order).toEqual(['a', 'b'])
    // b holds the one slot; with c waiting, the owner still passes c when the slot frees.
    const waiting = r.take('c')
    r.engine.busy = 1
    r.release('b')
    r.engine.busy = 0
    expect(await r.take(ME, false)).toBe(true)
    r.release(ME)
    expect(await waiting).toBe(true)
  })

  it('a request that waits too long is refused as busy; one whose caller left stops waiting', async () => {
    const r = await runner(1)
    expect(await r.take('b', true, new AbortController().signal, 10)).toBe(false)
    const gone = new AbortController()
    const left = r.take('c', true, gone.signal)
    gone.abort(new Error('the requester went away'))
    await expect(left).rejects.toThrow('the requester went away')
    expect(r.turns.context('m', 'c')).toMatchObject({ owner_waiting: 0, others_waiting: 0 })
  })

  it('a freed slot is given once, however many wait; one the engine frees is found by the poll', async () => {
    const r = await runner(2)
    const waits = Array.from({ length: 5 }, (_, i) => r.take(`m${i}`))
    r.release()
    await settle()
    expect(r.order).toEqual(['m0'])
    expect(r.turns.context('m', 'z').running).toBe(2)
    r.engine.busy = 2
    r.release()
    await settle()
    expect(r.order).toEqual(['m0'])
    r.engine.busy = 0
    await settle()
    expect(r.order).toEqual(['m0', 'm1'])
    for (let i = 0; i < 3; i++) r.release(`m${i}`)
    await Promise.all(waits)
  })

  it('unfair (the bench’s baseline): one first-come line, the owner behind whoever came first', async () => {
    const turns = new SlotTurns({ self: ME, slotsOf: () => ({ slots: 1, busy: 0 }), fair: false })
    const order: string[] = []
    const take = (member: string) =>
      turns.take('m', member, { queue: true, signal, waitMs: LONG }).then(() => order.push(member))
    await take('x')
    const waits = [take('a'), take('a'), take('b'), take(ME)]
    for (const member of ['x', 'a', 'a', 'b']) {
      turns.release('m', member)
      await settle()
    }
    await Promise.all(waits)
    expect(order).toEqual(['x', 'a', 'a', 'b', ME])
  })

  it('held back: a swarm at its share leaves the rest for the owner and a member holding none; its next waits for its own', async () => {
    const engine = { slots: 6, busy: 0, heldBack: 2 }
    const turns = new SlotTurns({ self: ME, slotsOf: () => engine, pollMs: 5 })
    const take = (member: string, queue = false) => turns.take('m', member, { queue, signal, waitMs: LONG })
    for (let i = 0; i < 4; i++) expect(await take('a')).toBe(true)
    const fifth = take('a', true)
    // a's fifth waits; b and the owner are not behind it.
    expect(await take('b')).toBe(true)
    expect(await take(ME)).toBe(true)
    expect(turns.context('m', 'b')).toMatchObject({ slots: 6, held_back: 2, running: 6, others_waiting: 1 })
    // b's slot, given back, stays free for the next newcomer: a already holds its share.
    turns.release('m', 'b')
    await settle()
    expect(turns.context('m', 'a')).toMatchObject({ running: 5, others_waiting: 1 })
    turns.release('m', 'a')
    expect(await fifth).toBe(true)
    expect(turns.context('m', 'a')).toMatchObject({ running: 5, others_running: 4 })
  })

  // Who may take a free slot, by the engine's slots, those held back and who holds what (queue: false).
  const cases: [string, number, number, string[], string, boolean][] = [
    ['a swarm stops at its share', 6, 2, ['a', 'a', 'a', 'a'], 'a', false],
    ['a member holding none takes a held-back slot', 6, 2, ['a', 'a', 'a', 'a'], 'b', true],
    ['the owner takes a held-back slot', 6, 2, ['a', 'a', 'a', 'a'], ME, true],
    ['a newcomer’s second slot would pass the share', 6, 2, ['a', 'a', 'a', 'a', 'b'], 'b', false],
    ['the owner with a newcomer in', 6, 2, ['a', 'a', 'a', 'a', 'b'], ME, true],
    ['none free', 6, 2, ['a', 'a', 'a', 'a', 'b', ME], 'c', false],
    ['the swarm back to its share beside a newcomer', 6, 2, ['a', 'a', 'a', 'b'], 'a', true],
    ['two swarms share the extra slots', 6, 2, ['a', 'a', 'c', 'c'], 'c', true],
    ['two swarms at the share together', 6, 2, ['a', 'a', 'a', 'c', 'c'], 'a', false],
    ['the owner is not held to a share', 6, 2, [ME, ME, ME, ME, ME], ME, true],
    ['the owner’s slots leave a member its first', 6, 2, [ME, ME, ME, ME, ME], 'a', true],
    ['share 1: one slot each', 3, 2, ['a'], 'a', false],
    ['share 1: a newcomer', 3, 2, ['a'], 'b', true],
    ['none held back: a member takes every slot', 4, 0, ['a', 'a', 'a'], 'a', true],
    ['none held back, full', 4, 0, ['a', 'a', 'a', 'a'], ME, false],
    ['one slot', 1, 0, [], 'a', true],
  ]
  it.each(cases)('%s', async (_, slots, heldBack, holders, asker, takes) => {
    const turns = new SlotTurns({ self: ME, slotsOf: () => ({ slots, busy: 0, heldBack }) })
    const take = (member: string) => turns.take('m', member, { queue: false, signal, waitMs: 0 })
    for (const holder of holders) expect(await take(holder)).toBe(true)
    expect(await take(asker)).toBe(takes)
  })

  it('unfair: no share, a member takes held-back slots too', async () => {
    const turns = new SlotTurns({
      self: ME,
      slotsOf: () => ({ slots: 6, busy: 0, heldBack: 2 }),
      fair: false,
    })
    for (let i = 0; i < 6; i++)
      expect(await turns.take('m', 'a', { queue: false, signal, waitMs: 0 })).toBe(true)
  })
})
