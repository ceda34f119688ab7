/** Priority at a runner's slots (issue 58, point 2): the band line, the request that is parked, and the turns. */
import { describe, expect, it } from 'vitest'
import { BandLine } from '../../../../host/requests/direct/band-line.ts'
import { type Holder, preemptionFor } from '../../../../host/requests/direct/preemption.ts'
import { SlotTurns } from '../../../../host/requests/direct/slot-turns.ts'
import type { Band } from '../../../../host/requests/priority.ts'

/** A holder; `left`: its time left against a park's 50 ms (undefined: no odds from its engine). */
const h = (name: string, band: Band, parkable = true, parking = false, left?: number | null) =>
  ({
    name,
    band,
    park: parkable ? async () => {} : null,
    parking,
    ...(left !== undefined && { odds: () => ({ leftMs: left, parkMs: 50 }) }),
  }) as Holder & { name: string }

describe('preemptionFor', () => {
  it.each([
    ['the lowest band below the asker', [h('a', 'agent'), h('b', 'batch')], 'interactive', 'b'],
    [
      'within a band, the last to take its slot',
      [h('b1', 'batch'), h('b2', 'batch'), h('a', 'agent')],
      'interactive',
      'b2',
    ],
    ['an agent parks a batch request', [h('a', 'agent'), h('b', 'batch')], 'agent', 'b'],
    ['never its own band', [h('a', 'agent')], 'agent', undefined],
    ['never a higher band', [h('i', 'interactive')], 'agent', undefined],
    ['a batch request parks none', [h('b', 'batch')], 'batch', undefined],
    ['not one that cannot be parked', [h('b', 'batch', false), h('a', 'agent')], 'interactive', 'a'],
    ['not one being parked already', [h('b', 'batch', true, true)], 'interactive', undefined],
    ['none running', [], 'interactive', undefined],
    // Park only where it pays: what a park costs against the time the victim has left.
    ['one with longer left than a park takes', [h('b', 'batch', true, false, 400)], 'interactive', 'b'],
    ['one whose time left is not known yet', [h('b', 'batch', true, false, null)], 'interactive', 'b'],
    [
      'waits for one that ends before a park would',
      [h('b', 'batch', true, false, 30)],
      'interactive',
      'wait',
    ],
    [
      'waits where a park costs exactly its time left',
      [h('b', 'batch', true, false, 50)],
      'interactive',
      'wait',
    ],
    [
      'waits for any below its band that ends first, not parking another',
      [
        h('b1', 'batch', true, false, 400),
        h('b2', 'batch', true, false, 400),
        h('a', 'agent', true, false, 10),
      ],
      'interactive',
      'wait',
    ],
    [
      'not for one of its own band that ends first',
      [h('b', 'batch', true, false, 400), h('a', 'agent', true, false, 10)],
      'agent',
      'b',
    ],
    [
      'not for one being parked already',
      [h('b1', 'batch', true, true, 10), h('b2', 'batch', true, false, 400)],
      'interactive',
      'b2',
    ],
  ] as const)('%s', (_, holders, band, expected) => {
    const got = preemptionFor(holders, band)
    expect(typeof got === 'object' ? (got.park as { name: string }).name : got).toBe(expected)
  })
})

describe('BandLine', () => {
  it('serves the higher band first, the owner first within a band, members by turns', () => {
    const line = new BandLine<string>()
    line.push('b1', 'x', false, 'batch')
    line.push('a1', 'x', false, 'agent')
    line.push('a2', 'y', false, 'agent')
    line.push('ob', 'me', true, 'batch')
    line.push('i1', 'y', false, 'interactive')
    line.push('a3', 'x', false, 'agent', true)
    expect(line.waiting(() => true, 'interactive')).toBe(true)
    expect(line.ownerWaiting('agent')).toBe(0)
    expect(line.ownerWaiting()).toBe(1)
    const order = []
    for (let next = line.next(() => true); next; next = line.next(() => true)) order.push(next)
    expect(order).toEqual(['i1', 'a3', 'a2', 'a1', 'ob', 'b1'])
    expect(line.size).toBe(0)
  })
})

/** A runner's model with `slots`, each request holding as `holder` (parking gives its slot back). */
function runner(slots: number) {
  const turns = new SlotTurns({ self: 'me', slotsOf: () => ({ slots, busy: 0 }), pollMs: 5 })
  const parked: string[] = []
  const take = (member: string, band: Band, queue = false, leftMs?: number) => {
    const holder: Holder = { band, park: null, parking: false }
    if (leftMs !== undefined) holder.odds = () => ({ leftMs, parkMs: 50 })
    holder.park = async () => {
      parked.push(member)
      holder.park = null
      turns.release('m', member, 0, holder)
    }
    const signal = new AbortController().signal
    return turns.take('m', member, { queue, signal, waitMs: 60_000, band, holder })
  }
  return { turns, parked, take }
}

describe('SlotTurns with bands', () => {
  it('a higher band finding every slot taken waits for a lower band’s to be parked, not refused', async () => {
    const r = runner(2)
    expect(await r.take('swarm', 'batch')).toBe(true)
    expect(await r.take('swarm', 'batch')).toBe(true)
    // Not asked to queue, yet it waits: a batch request gives its slot up.
    expect(await r.take('b', 'interactive')).toBe(true)
    expect(r.parked).toEqual(['swarm'])
    expect(r.turns.context('m', 'b')).toMatchObject({ running: 2 })
  })

  it('a higher band waits for the first slot to free where a lower band’s ends before a park would', async () => {
    const r = runner(2)
    expect(await r.take('swarm', 'batch', false, 500)).toBe(true)
    expect(await r.take('swarm', 'batch', false, 20)).toBe(true)
    // A batch request already waiting: the interactive one, come later, is still first in line.
    let batchTook = false
    void r.take('late', 'batch', true).then(() => (batchTook = true))
    let took = false
    const b = r.take('b', 'interactive').then((t) => (took = t))
    await new Promise((done) => setTimeout(done, 30))
    expect(took).toBe(false)
    expect(r.parked).toEqual([])
    r.turns.release('m', 'swarm')
    expect(await b).toBe(true)
    expect(batchTook).toBe(false)
    expect(r.parked).toEqual([])
  })

  it('a request of the same band is refused as busy (nothing to park)', async () => {
    const r = runner(1)
    expect(await r.take('a', 'agent')).toBe(true)
    expect(await r.take('b', 'agent')).toBe(false)
    expect(await r.take('c', 'batch')).toBe(false)
    expect(r.parked).toEqual([])
  })

  it('a freed slot goes to the higher band waiting, whoever came first', async () => {
    const turns = new SlotTurns({ self: 'me', slotsOf: () => ({ slots: 1, busy: 0 }), pollMs: 5 })
    const signal = new AbortController().signal
    const opts = (band: Band) => ({ queue: true, signal, waitMs: 60_000, band })
    expect(await turns.take('m', 'x', opts('agent'))).toBe(true)
    const order: string[] = []
    const batch = turns.take('m', 'y', opts('batch')).then(() => order.push('batch'))
    const agent = turns.take('m', 'z', opts('agent')).then(() => order.push('agent'))
    turns.release('m', 'x')
    await agent
    turns.release('m', 'z')
    await batch
    expect(order).toEqual(['agent', 'batch'])
  })
})
