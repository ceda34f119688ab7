import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  closestMembers,
  isOpHolder,
  opHolders,
  type Placed,
  placeMembers,
  placeOfAgent,
  placeOfBasis,
} from '../../../../host/conductor/embedded/replication/op-holders.ts'
import { encodeHashB64, holoHashFrom32 } from '../../../../host/identity/hash.ts'
import { peerIdOfAgent } from '../../../../host/identity/peer-agent.ts'

const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest())
const agentKey = (i: number) => encodeHashB64(holoHashFrom32(sha256(`member ${i}`), 'agent'))
const basisOf = (i: number) => holoHashFrom32(sha256(`op ${i}`), 'action')
const members = (n: number) => Array.from({ length: n }, (_, i) => agentKey(i))

/** One-byte places, so each distance reads off the table: distance = place XOR target. */
const placed = (entries: [string, number][]): Placed[] =>
  entries.map(([agent, place]) => ({ agent, place: Uint8Array.of(place) }))

describe('closest members', () => {
  const mesh = placed([
    ['a', 0b0001], // to 0b0101: 0b0100 = 4
    ['b', 0b0100], // 1
    ['c', 0b0111], // 2
    ['d', 0b1101], // 8
    ['e', 0b0101], // 0
  ])
  it.each([
    // target, r, holders (closest first)
    [0b0101, 1, ['e']],
    [0b0101, 2, ['e', 'b']],
    [0b0101, 3, ['e', 'b', 'c']],
    [0b0101, 4, ['e', 'b', 'c', 'a']],
    [0b0101, 5, ['e', 'b', 'c', 'a', 'd']],
    // Fewer members than r: every one of them.
    [0b0101, 8, ['e', 'b', 'c', 'a', 'd']],
    [0b0000, 2, ['a', 'b']],
    [0b1111, 2, ['d', 'c']],
  ])('target %i, r %i: %j', (target, r, holders) => {
    expect(closestMembers(Uint8Array.of(target), mesh, r)).toEqual(holders)
  })

  it('breaks a tie at the same place by agent key, whatever order the list is in', () => {
    const tied = placed([
      ['z', 0b0011],
      ['m', 0b0011],
      ['a', 0b1000],
    ])
    expect(closestMembers(Uint8Array.of(0b0011), tied, 1)).toEqual(['m'])
    expect(closestMembers(Uint8Array.of(0b0011), [...tied].reverse(), 1)).toEqual(['m'])
    expect(closestMembers(Uint8Array.of(0b0011), tied, 2)).toEqual(['m', 'z'])
  })

  it('draws the same holders from any order of the members', () => {
    const all = placeMembers(members(50))
    const target = placeOfBasis(basisOf(1))
    const shuffled = [...all].sort((x, y) => x.place[5]! - y.place[5]!)
    expect(closestMembers(target, shuffled, 8)).toEqual(closestMembers(target, all, 8))
  })

  it.each([0, -1, 1.5, Number.NaN])('refuses %s holders', (r) => {
    expect(() => closestMembers(Uint8Array.of(0), placed([['a', 1]]), r)).toThrow(RangeError)
  })
})

describe('op holders', () => {
  it('places a member as kad-dht does: sha256 of its peer id multihash', () => {
    const agent = agentKey(7)
    const expected = createHash('sha256').update(peerIdOfAgent(agent).toMultihash().bytes).digest()
    expect(Buffer.from(placeOfAgent(agent)).equals(expected)).toBe(true)
  })

  it('are the r members closest by XOR of places (checked against a plain sort)', () => {
    const all = members(40)
    for (let op = 0; op < 20; op++) {
      const target = BigInt(`0x${Buffer.from(placeOfBasis(basisOf(op))).toString('hex')}`)
      const distance = (agent: string) =>
        BigInt(`0x${Buffer.from(placeOfAgent(agent)).toString('hex')}`) ^ target
      const sorted = [...all].sort((x, y) => (distance(x) < distance(y) ? -1 : 1))
      expect(opHolders(basisOf(op), all, 8)).toEqual(sorted.slice(0, 8))
    }
  })

  it('are every member of a mesh of r or fewer, for every op', () => {
    for (const n of [1, 4, 8]) {
      for (let op = 0; op < 10; op++) {
        expect(new Set(opHolders(basisOf(op), members(n), 8))).toEqual(new Set(members(n)))
        for (const agent of members(n)) expect(isOpHolder(agent, basisOf(op), members(n), 8)).toBe(true)
      }
    }
  })

  it('count a member listed twice once', () => {
    const all = members(3)
    expect(opHolders(basisOf(0), [...all, ...all], 8)).toHaveLength(3)
    expect(placeMembers([...all, all[0]!])).toHaveLength(3)
  })

  it('name r of a larger mesh, and isOpHolder agrees', () => {
    const all = members(100)
    const holders = opHolders(basisOf(3), all, 8)
    expect(new Set(holders).size).toBe(8)
    for (const agent of all) expect(isOpHolder(agent, basisOf(3), all, 8)).toBe(holders.includes(agent))
    // An agent outside the list holds nothing.
    expect(isOpHolder(agentKey(1000), basisOf(3), all, 8)).toBe(false)
  })

  it('spread the ops over the members: none holds twice its share of R/N', () => {
    const all = members(100)
    const held = new Map(all.map((a) => [a, 0]))
    const ops = 2_000
    for (let op = 0; op < ops; op++)
      for (const h of opHolders(basisOf(op), all, 8)) held.set(h, held.get(h)! + 1)
    const fair = (ops * 8) / all.length
    expect(Math.max(...held.values())).toBeLessThan(2 * fair)
    // Every member holds some: no one is left out of every neighbourhood.
    expect(Math.min(...held.values())).toBeGreaterThan(0)
  })

  it('change minimally when a member leaves or joins', () => {
    const all = members(30)
    for (let op = 0; op < 20; op++) {
      const basis = basisOf(op)
      const before = opHolders(basis, all, 8)
      const next = opHolders(basis, all, 9)[8]!
      for (const leaving of all) {
        const after = opHolders(
          basis,
          all.filter((a) => a !== leaving),
          8,
        )
        if (before.includes(leaving)) {
          // The one that left is replaced by the next closest; the other seven stay.
          expect(new Set(after)).toEqual(new Set([...before.filter((a) => a !== leaving), next]))
        } else expect(after).toEqual(before)
      }
      // A joiner displaces at most one holder, the farthest.
      const after = opHolders(basis, [...all, agentKey(999)], 8)
      expect(before.filter((a) => !after.includes(a)).length).toBeLessThanOrEqual(1)
      if (after.includes(agentKey(999))) expect(after).not.toContain(before[7])
    }
  })
})
