import { describe, expect, it } from 'vitest'
import { MemberRoll } from '../../../../host/conductor/embedded/replication/member-roll.ts'

function roll(initial: string[]) {
  const state = { members: initial, stamp: 0, reads: 0 }
  const members = new MemberRoll({
    read: () => {
      state.reads++
      return [...state.members]
    },
    stamp: () => state.stamp,
  })
  return { state, members }
}

describe('MemberRoll', () => {
  it('reads the members once while nothing that decides them changed', () => {
    const { state, members } = roll(['a', 'b'])
    for (let i = 0; i < 5; i++) {
      expect(members.members()).toEqual(['a', 'b'])
      expect(members.has('b')).toBe(true)
      expect(members.has('c')).toBe(false)
    }
    expect(state.reads).toBe(1)
  })

  it('reads them again once the stamp moved (a store write, a revocation, warrant or seal held)', () => {
    const { state, members } = roll(['a'])
    expect(members.has('b')).toBe(false)
    state.members = ['a', 'b']
    // Not yet stamped: the roll stands.
    expect(members.has('b')).toBe(false)
    state.stamp = 1
    expect(members.has('b')).toBe(true)
    expect(members.members()).toEqual(['a', 'b'])
    state.members = ['a']
    state.stamp = 2
    expect(members.has('b')).toBe(false)
    expect(state.reads).toBe(3)
  })
})
