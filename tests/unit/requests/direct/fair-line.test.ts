import { describe, expect, it } from 'vitest'
import { FairLine } from '../../../../host/requests/direct/fair-line.ts'

/** Arrivals as `member:count` (`me` is the owner), then the order the line serves them in. */
function served(arrivals: string[], weights: Partial<Record<string, number>> = {}) {
  const line = new FairLine<string>((m) => weights[m] ?? 1)
  for (const arrival of arrivals) {
    const [member, count] = arrival.split(':') as [string, string]
    for (let i = 0; i < Number(count); i++) line.push(`${member}${i}`, member, member === 'me')
  }
  const order: string[] = []
  for (let item = line.next(); item !== undefined; item = line.next()) order.push(item)
  return order.map((i) => i.replace(/\d+$/, '')).join(' ')
}

describe('the fair line', () => {
  it.each([
    { name: 'one member: first come, first served', arrivals: ['a:3'], order: 'a a a' },
    {
      name: 'the owner goes first, whoever came before',
      arrivals: ['a:3', 'b:1', 'me:2'],
      order: 'me me a b a a',
    },
    {
      name: 'a swarm of 16 and one loop take turns: the one loop waits one turn, not sixteen',
      arrivals: ['a:16', 'b:1'],
      order: `a b ${Array(15).fill('a').join(' ')}`,
    },
    { name: 'three members round robin', arrivals: ['a:3', 'b:3', 'c:2'], order: 'a b c a b c a b' },
  ])('$name', ({ arrivals, order }) => {
    expect(served(arrivals)).toBe(order)
  })

  it.each([
    { weights: { a: 2 }, arrivals: ['a:6', 'b:6'], order: 'a a b a a b a a b b b b' },
    { weights: { b: 3 }, arrivals: ['a:4', 'b:6'], order: 'a b b b a b b b a a' },
    // A weight below 1 saves up: a half-weight member is served every other round.
    { weights: { a: 0.5 }, arrivals: ['a:3', 'b:4'], order: 'b a b b a b a' },
  ])('turns in proportion to weights $weights', ({ weights, arrivals, order }) => {
    expect(served(arrivals, weights)).toBe(order)
  })

  it('a member with 32 waiting gets half the turns while another with one loop keeps coming back', () => {
    const line = new FairLine<string>()
    for (let i = 0; i < 32; i++) line.push('a', 'a', false)
    const order: string[] = []
    for (let round = 0; round < 10; round++) {
      line.push('b', 'b', false) // B's loop sends its next request once the last one is served
      order.push(line.next()!)
      if (order.at(-1) === 'a') order.push(line.next()!)
    }
    const bServed = order.filter((m) => m === 'b').length
    expect(bServed).toBeGreaterThanOrEqual(order.length / 2 - 1)
  })

  it('a request that stops waiting leaves the line, and its member the ring when it was its last', () => {
    const line = new FairLine<string>()
    line.push('a0', 'a', false)
    line.push('b0', 'b', false)
    line.push('me0', 'me', true)
    expect(line.size).toBe(3)
    expect(line.ownerWaiting).toBe(1)
    expect(line.remove('a0')).toBe(true)
    expect(line.remove('me0')).toBe(true)
    expect(line.remove('nope')).toBe(false)
    expect(line.next()).toBe('b0')
    expect(line.next()).toBeUndefined()
    expect(line.size).toBe(0)
  })

  it('passes over members it is told not to serve now; theirs is the next turn', () => {
    const line = new FairLine<string>()
    for (const m of ['a', 'b', 'a', 'b']) line.push(m, m, false)
    expect(line.waiting((m) => m === 'c')).toBe(false)
    expect(line.next((m) => m !== 'a')).toBe('b')
    expect(line.next((m) => m === 'c')).toBeUndefined()
    expect([line.next(), line.next(), line.next()]).toEqual(['a', 'b', 'a'])
  })
})
