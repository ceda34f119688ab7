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

  it('reads them again after an agent_registry op was stored or committed', () => {
    const { state, members } = roll(['a'])
    expect(members.has('b')).toBe(false)
    state.members = ['a', 'b']
    // Not yet told: the roll stands.
    expect(members.has('b')).toBe(false)
    members.changed()
    expect(members.has('b')).toBe(true)
    expect(members.members()).toEqual(['a', 'b'])
    expect(state.reads).toBe(2)
  })

  it('reads them again once a revocation, warrant or seal is held, even with no op event after it', () => {
    const { state, members } = roll(['a', 'b'])
    expect(members.has('b')).toBe(true)
    state.members = ['a']
    state.stamp = 1
    expect(members.has('b')).toBe(false)
    expect(members.members()).toEqual(['a'])
    expect(state.reads).toBe(2)
  })

  it('a change told and a stamp moved at once still read again (the sum only grows)', () => {
    const { state, members } = roll(['a'])
    members.members()
    members.changed()
    state.stamp = 3
    state.members = []
    expect(members.members()).toEqual([])
    expect(state.reads).toBe(2)
  })
})
