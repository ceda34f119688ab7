import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  differingSectors,
  HolderPlans,
  heldByBoth,
  type PlacedOp,
  planOps,
  SECTORS,
  sectorOf,
  summarize,
} from '../../../../host/conductor/embedded/replication/neighbourhood-summary.ts'
import { opHolders } from '../../../../host/conductor/embedded/replication/op-holders.ts'
import { encodeHashB64, holoHashFrom32 } from '../../../../host/identity/hash.ts'

const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest())
const agentKey = (i: number) => encodeHashB64(holoHashFrom32(sha256(`member ${i}`), 'agent'))
const actionHash = (i: number) => holoHashFrom32(sha256(`op ${i}`), 'action')
const mesh = Array.from({ length: 12 }, (_, i) => agentKey(i))
const R = 3
/** An author that is no member here: its ops are held by their holders alone. */
const FAR = agentKey(99)

/** An op whose basis the given holders hold (found among many), or one every member holds. */
function opHeldBy(want: 'both' | 'first only' | 'second only' | 'neither', a: string, b: string): PlacedOp {
  for (let i = 0; ; i++) {
    const basis = holoHashFrom32(sha256(`basis ${want} ${i}`), 'entry')
    const holders = opHolders(basis, mesh, R)
    const has = [holders.includes(a), holders.includes(b)]
    const fits = {
      both: [true, true],
      'first only': [true, false],
      'second only': [false, true],
      neither: [false, false],
    }
    if (has[0] === fits[want][0] && has[1] === fits[want][1])
      return { hash: actionHash(1000 + i), bases: [basis], author: FAR }
  }
}

/** An op held at two bases (a link: its hash and its base), one held by `a` alone, one by `b` alone. */
function twoBases(a: string, b: string): PlacedOp {
  const [first, second] = [opHeldBy('first only', a, b), opHeldBy('second only', a, b)]
  return { hash: actionHash(2), bases: [...first.bases!, ...second.bases!], author: FAR }
}

describe('the ops two peers should both hold', () => {
  const [a, b] = [mesh[0]!, mesh[1]!]
  it.each([
    ['a basis both hold', opHeldBy('both', a, b), true],
    ['a basis only the first holds', opHeldBy('first only', a, b), false],
    ['a basis only the second holds', opHeldBy('second only', a, b), false],
    ['a basis neither holds', opHeldBy('neither', a, b), false],
    ['an op every member holds', { hash: actionHash(1), bases: null, author: FAR }, true],
    ['a link whose base one holds and whose own hash the other', twoBases(a, b), true],
    ["one's own op whose basis the other holds", { ...opHeldBy('second only', a, b), author: a }, true],
    ["one's own op whose basis neither holds", { ...opHeldBy('neither', a, b), author: a }, false],
  ] as const)('%s: compared %s', (_what, op, compared) => {
    const planned = planOps([op], mesh, R)
    expect(heldByBoth(planned, a, b).length).toBe(compared ? 1 : 0)
    // The same set from either side.
    expect(heldByBoth(planned, b, a).length).toBe(compared ? 1 : 0)
  })

  it('in a mesh of R or fewer, everything', () => {
    const ops = Array.from({ length: 20 }, (_, i) => ({
      hash: actionHash(i),
      bases: [holoHashFrom32(sha256(`basis ${i}`), 'entry')],
      author: FAR,
    }))
    expect(heldByBoth(planOps(ops, mesh.slice(0, R), R), mesh[0]!, mesh[1]!)).toHaveLength(20)
  })
})

describe('summaries of held ops', () => {
  const hashes = Array.from({ length: 500 }, (_, i) => actionHash(i))

  it('spreads ops over every sector by their own hash', () => {
    const filled = new Set(hashes.map(sectorOf))
    expect(filled.size).toBe(SECTORS)
    expect(Math.max(...hashes.map(sectorOf))).toBe(SECTORS - 1)
  })

  it.each([
    ['the same ops in another order', 0, () => [...hashes].reverse()],
    ['one op less', 1, () => hashes.slice(1)],
    ['one op more', 1, () => [...hashes, actionHash(9999)]],
    ['two ops less in two sectors', 2, () => hashes.filter((h) => !twoSectors().includes(h))],
    ['nothing against everything', SECTORS, () => []],
  ] as const)('%s: %s sectors differ', (_what, differing, theirsOf) => {
    const theirs: Uint8Array[] = theirsOf()
    const ours = summarize(hashes)
    const other = summarize(theirs)
    const sectors = differingSectors(ours.sectors, other.sectors)
    expect(sectors).toHaveLength(differing)
    expect(Buffer.compare(ours.root, other.root) === 0).toBe(differing === 0)
    // What one side lacks is found in the differing sectors alone.
    const lacking = (among: Uint8Array[]) => among.filter((h) => !theirs.includes(h))
    expect(lacking(sectors.flatMap((s) => ours.hashes[s]!))).toEqual(lacking(hashes).sort(Buffer.compare))
  })

  function twoSectors(): [Uint8Array, Uint8Array] {
    return [hashes[0]!, hashes.find((h) => sectorOf(h) !== sectorOf(hashes[0]!))!]
  }

  it('an idle pair compares one root, whatever it holds', () => {
    const summary = summarize(hashes)
    expect(summary.root).toHaveLength(32)
    expect(summary.sectors).toHaveLength(SECTORS)
    expect(summarize([]).root).toEqual(summarize([]).root)
  })

  it('treats a summary of another sector count as differing everywhere', () => {
    const ours = summarize(hashes).sectors
    expect(differingSectors(ours, ours.slice(1))).toHaveLength(SECTORS)
    expect(differingSectors(ours, ours)).toEqual([])
  })
})

describe('holders planned once while the members stay', () => {
  const ops = Array.from({ length: 40 }, (_, i) => ({
    hash: actionHash(i),
    bases: i % 5 === 0 ? null : [holoHashFrom32(sha256(`basis ${i}`), 'entry')],
    author: FAR,
  }))

  it('plans what planOps plans, and after a write only the new ops', () => {
    const plans = new HolderPlans()
    const first = plans.plan(ops.slice(0, 30), mesh, R)
    expect(first).toEqual(planOps(ops.slice(0, 30), mesh, R))
    const after = plans.plan(ops, mesh, R)
    expect(after).toEqual(planOps(ops, mesh, R))
    // The 30 planned before are the same plans: not planned again.
    expect(after.slice(0, 30).every((planned, i) => planned === first[i])).toBe(true)
  })

  it('plans every op again when the members change', () => {
    const plans = new HolderPlans()
    const before = plans.plan(ops, mesh, R)
    const fewer = mesh.slice(0, 8)
    const after = plans.plan(ops, fewer, R)
    expect(after).toEqual(planOps(ops, fewer, R))
    expect(after.some((planned, i) => planned === before[i])).toBe(false)
  })
})
