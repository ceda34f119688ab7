import { createHash } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'
import { chainsKeptByBoth } from '../../../../host/conductor/embedded/replication/chain-overlap.ts'
import { closestMembers, opHolders } from '../../../../host/conductor/embedded/replication/op-holders.ts'
import { decodeHashB64, encodeHashB64, holoHashFrom32 } from '../../../../host/identity/hash.ts'

// Counted: the closest-member search is the cost an exchange pays per chain.
vi.mock('../../../../host/conductor/embedded/replication/op-holders.ts', async (original) => {
  const real =
    await original<typeof import('../../../../host/conductor/embedded/replication/op-holders.ts')>()
  return { ...real, closestMembers: vi.fn(real.closestMembers) }
})

const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest())
const mesh = Array.from({ length: 12 }, (_, i) =>
  encodeHashB64(holoHashFrom32(sha256(`member ${i}`), 'agent')),
)
const R = 3
const key = (agent: string) => decodeHashB64(agent, 'agent')
const activity = (author: string) => opHolders(key(author), mesh, R)

/** An author (a member or not) whose activity holders are as asked of `a` and `b`. */
function authorWhere(a: string, b: string, hasA: boolean, hasB: boolean): string {
  for (let i = 0; ; i++) {
    const author = encodeHashB64(holoHashFrom32(sha256(`author ${i}`), 'agent'))
    if (activity(author).includes(a) === hasA && activity(author).includes(b) === hasB) return author
  }
}

describe('the chains two peers compare heads of', () => {
  const [a, b] = [mesh[0]!, mesh[1]!]
  it.each([
    ['one both hold the activity of', () => authorWhere(a, b, true, true), true],
    ['one only the first holds the activity of', () => authorWhere(a, b, true, false), false],
    ['one neither does', () => authorWhere(a, b, false, false), false],
    ["the first's own, where the second holds its activity", () => a, activity(a).includes(b)],
    ["the second's own, where the first holds its activity", () => b, activity(b).includes(a)],
  ] as const)('%s: %s', (_what, authorOf, compared) => {
    const author = authorOf()
    expect(chainsKeptByBoth(mesh, R, a, b)(key(author))).toBe(compared)
    expect(chainsKeptByBoth(mesh, R, b, a)(key(author))).toBe(compared)
  })

  it('in a mesh of R or fewer, every chain', () => {
    const small = mesh.slice(0, R)
    for (const author of small)
      expect(chainsKeptByBoth(small, R, small[0]!, small[1]!)(key(author))).toBe(true)
  })
  it('searches the closest members once an author while the members are the same, a new list of them too', () => {
    const searches = vi.mocked(closestMembers)
    const authors = Array.from({ length: 20 }, (_, i) =>
      key(encodeHashB64(holoHashFrom32(sha256(`x ${i}`), 'agent'))),
    )
    const exchange = (members: string[], peer: string) => authors.map(chainsKeptByBoth(members, R, a, peer))
    searches.mockClear()
    const first = exchange([...mesh], b)
    // Another exchange, the members read again (a new list, the same members), another peer.
    expect(exchange([...mesh], b)).toEqual(first)
    exchange([...mesh], mesh[2]!)
    // Every exchange searched again before: 60.
    expect(searches).toHaveBeenCalledTimes(authors.length)
    // A member gone: searched again.
    exchange(mesh.slice(1), b)
    expect(searches).toHaveBeenCalledTimes(2 * authors.length)
  })
})
