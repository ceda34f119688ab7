/**
 * The rendezvous-hash convention every peer applies alike: the key of an agent for a subject, the
 * byte order of keys, the order of a list of agents and one agent's rank in it.
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  compareKeys,
  rendezvousKey,
  rendezvousOrder,
  rendezvousRank,
} from '../../../host/interface/rendezvous.ts'

const AGENTS = ['uhCAkAlice', 'uhCAkBob', 'uhCAkCarol', 'uhCAkDave', 'uhCAkErin', 'uhCAkFrank']

describe('rendezvousKey', () => {
  it('is sha256 over the UTF-8 of subject, a newline and the agent', () => {
    const expected = createHash('sha256').update('task-1\nuhCAkAlice', 'utf8').digest()
    expect(Buffer.from(rendezvousKey('task-1', 'uhCAkAlice'))).toEqual(expected)
    const unicode = createHash('sha256').update('modèle\n🐙', 'utf8').digest()
    expect(Buffer.from(rendezvousKey('modèle', '🐙'))).toEqual(unicode)
  })

  it('differs by subject and by agent', () => {
    const key = Buffer.from(rendezvousKey('a', 'b'))
    expect(Buffer.from(rendezvousKey('a', 'c'))).not.toEqual(key)
    expect(Buffer.from(rendezvousKey('b', 'b'))).not.toEqual(key)
    // The newline separates them: ('ab', '') hashes 'ab\n', not 'a\nb'.
    expect(Buffer.from(rendezvousKey('ab', ''))).not.toEqual(key)
  })
})

describe('compareKeys', () => {
  it.each([
    [[1, 2, 3], [1, 2, 3], 0],
    [[1, 2, 3], [1, 2, 4], -1],
    [[1, 9], [2, 0], -1],
    [[255], [0], 1],
    [[1, 2], [1, 2, 0], -1],
    [[1, 2, 0], [1, 2], 1],
  ])('orders %j against %j as %i', (a, b, sign) => {
    expect(Math.sign(compareKeys(Uint8Array.from(a), Uint8Array.from(b)))).toBe(sign)
  })
})

describe('rendezvousOrder', () => {
  it('sorts the agents by their key for the subject, lowest first', () => {
    const order = rendezvousOrder('task-1', AGENTS)
    const byKey = [...AGENTS].sort((x, y) =>
      Buffer.compare(rendezvousKey('task-1', x), rendezvousKey('task-1', y)),
    )
    expect(order).toEqual(byKey)
    expect([...order].sort()).toEqual([...AGENTS].sort())
  })

  it('is the same whatever order the list comes in, and leaves the list as it was', () => {
    const reversed = [...AGENTS].reverse()
    expect(rendezvousOrder('task-1', reversed)).toEqual(rendezvousOrder('task-1', AGENTS))
    expect(reversed).toEqual([...AGENTS].reverse())
  })

  it('orders the same agents differently for different subjects', () => {
    const orders = new Set(['a', 'b', 'c', 'd', 'e'].map((s) => rendezvousOrder(s, AGENTS).join()))
    expect(orders.size).toBeGreaterThan(1)
  })

  it('keeps the relative order of the others when an agent leaves', () => {
    const order = rendezvousOrder('shard-7', AGENTS)
    const gone = order[2]!
    expect(
      rendezvousOrder(
        'shard-7',
        AGENTS.filter((a) => a !== gone),
      ),
    ).toEqual(order.filter((a) => a !== gone))
  })
})

describe('rendezvousRank', () => {
  it("is each agent's place in the rendezvous order", () => {
    for (const subject of ['task-1', 'shard-7', 'bafy-artifact']) {
      const order = rendezvousOrder(subject, AGENTS)
      for (const agent of AGENTS) expect(rendezvousRank(subject, agent, AGENTS)).toBe(order.indexOf(agent))
    }
  })

  it('ranks an agent that is not in the list by where it would stand', () => {
    const me = 'uhCAkNewcomer'
    const order = rendezvousOrder('task-1', [...AGENTS, me])
    expect(rendezvousRank('task-1', me, AGENTS)).toBe(order.indexOf(me))
    expect(rendezvousRank('task-1', me, [])).toBe(0)
  })
})
