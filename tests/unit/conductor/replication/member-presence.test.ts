import { describe, expect, it } from 'vitest'
import { MemberPresence } from '../../../../host/conductor/embedded/replication/member-presence.ts'

describe('which members count for placing ops', () => {
  it('drops a member neither connected nor heard from for the while, and takes it back when it is', () => {
    let now = 0
    const presence = new MemberPresence({ self: 'me', goneAfterMs: 60_000, now: () => now })
    const connected = new Set(['a'])
    const known = ['me', 'a', 'b', 'c']
    const present = () => presence.present(known, (agent) => connected.has(agent))
    // Not met yet: counted from when first known.
    expect(present()).toEqual(known)
    now = 30_000
    expect(present()).toEqual(known)
    connected.delete('a')
    now = 50_000
    presence.saw('b')
    now = 70_000
    expect(present()).toEqual(['me', 'a', 'b'])
    now = 100_000
    expect(present()).toEqual(['me', 'b'])
    now = 200_000
    expect(present()).toEqual(['me'])
    connected.add('c')
    expect(present()).toEqual(['me', 'c'])
    presence.saw('a')
    expect(present()).toEqual(['me', 'a', 'c'])
  })
})
