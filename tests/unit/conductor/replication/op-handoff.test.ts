import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { opHandoff, pushesOf } from '../../../../host/conductor/embedded/replication/op-handoff.ts'
import { opHolders } from '../../../../host/conductor/embedded/replication/op-holders.ts'
import { encodeHashB64, holoHashFrom32 } from '../../../../host/identity/hash.ts'

const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest())
const agentKey = (i: number) => encodeHashB64(holoHashFrom32(sha256(`member ${i}`), 'agent'))
const basis = holoHashFrom32(sha256('an op'), 'action')
const mesh = Array.from({ length: 12 }, (_, i) => agentKey(i))
const R = 4
/** The op's holders among the twelve, closest first, and the members that are not. */
const holders = opHolders(basis, mesh, R)
const others = mesh.filter((m) => !holders.includes(m))
const without = (gone: string[]) => mesh.filter((m) => !gone.includes(m))

describe('handing an op to its new holders', () => {
  it.each([
    // what changes, who is new, who pushes (indexes into the holders before, or the fifth closest)
    ['nothing', [], mesh, [], 0],
    ['a member that is no holder leaves', [], without([others[0]!]), [], 0],
    ['the closest holder leaves', [holders[0]!], without([holders[0]!]), ['fifth'], 1],
    ['a farther holder leaves', [holders[3]!], without([holders[3]!]), ['fifth'], 0],
  ] as const)('%s', (_what, gone, after, to, pusher) => {
    const fifth = opHolders(basis, mesh, R + 1)[R]!
    const handoff = opHandoff(basis, mesh, after, R)
    expect(handoff.to).toEqual(to.map(() => fifth))
    expect(handoff.by).toBe(holders[pusher])
    expect(gone.every((g) => !opHolders(basis, after, R).includes(g))).toBe(true)
  })

  it('hands it to a joiner closer than a holder, pushed by the closest holder left', () => {
    const joiner = Array.from({ length: 256 }, (_, i) => agentKey(100 + i)).find(
      (m) => opHolders(basis, [...mesh, m], R)[0] === m,
    )!
    expect(opHandoff(basis, mesh, [...mesh, joiner], R)).toEqual({ to: [joiner], by: holders[0] })
  })

  it('restores R holders however many leave, while one that had it is left', () => {
    let members = mesh
    for (const gone of holders.slice(0, -1)) {
      const after = members.filter((m) => m !== gone)
      const { to, by } = opHandoff(basis, members, after, R)
      const had = new Set(opHolders(basis, members, R))
      const holding = new Set([...opHolders(basis, after, R).filter((m) => had.has(m)), ...to])
      expect(holding.size).toBe(R)
      expect(by).not.toBeNull()
      expect(pushesOf(by!, basis, members, after, R)).toEqual(to)
      for (const other of after.filter((m) => m !== by))
        expect(pushesOf(other, basis, members, after, R)).toEqual([])
      members = after
    }
  })

  it('has a former holder still a member push when a partition heals', () => {
    // One side held it among itself; the mesh whole, its holders are on the other side.
    const side = [...others.slice(0, 4), holders[R - 1]!].filter((m) => m !== holders[0])
    const sideHolders = opHolders(basis, side, R)
    const { to, by } = opHandoff(basis, side, mesh, R)
    expect(to).toEqual(holders.filter((m) => !sideHolders.includes(m)))
    expect(by).toBe(holders.find((m) => sideHolders.includes(m)) ?? sideHolders[0])
    const healed = opHandoff(basis, others.slice(0, R), mesh, R)
    expect(healed).toEqual({ to: holders, by: opHolders(basis, others.slice(0, R), R)[0] })
  })

  it('has nobody to push when every holder that had it is gone', () => {
    expect(opHandoff(basis, mesh, without(holders), R).by).toBeNull()
  })

  it('in a mesh of R or fewer, a joiner gets everything', () => {
    const small = mesh.slice(0, 3)
    expect(opHandoff(basis, small, [...small, mesh[3]!], R)).toEqual({
      to: [mesh[3]],
      by: opHolders(basis, small, R)[0],
    })
  })
})
