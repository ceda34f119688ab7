import { describe, expect, it } from 'vitest'
import {
  type PlanArtifact,
  planRelease,
  planReplication,
  planTrim,
} from '../../../host/artifacts/replication-plan.ts'
import { rendezvousOrder } from '../../../host/interface/rendezvous.ts'

const PEERS = ['uhCAkA', 'uhCAkB', 'uhCAkC', 'uhCAkD']
const art = (cid: string, holders: string[], replication = 2, size = 10): PlanArtifact => ({
  cid,
  size,
  replication,
  holders,
})
const plan = (
  self: string,
  artifacts: PlanArtifact[],
  extra: { alive?: string[]; room?: number; overdue?: string[] } = {},
) =>
  planReplication({
    self,
    alive: new Set(extra.alive ?? PEERS),
    artifacts,
    room: extra.room ?? Number.POSITIVE_INFINITY,
    overdue: new Set(extra.overdue ?? []),
  })

describe('replication plan', () => {
  it('rendezvous order is the same whatever order the agents come in', () => {
    expect(rendezvousOrder('bafy1', PEERS)).toEqual(rendezvousOrder('bafy1', [...PEERS].reverse()))
    expect(new Set(rendezvousOrder('bafy1', PEERS))).toEqual(new Set(PEERS))
  })

  it('exactly `missing` peers take an under-replicated artifact, the first in rendezvous order', () => {
    const a = art('bafyone', ['uhCAkA'], 3)
    const takers = PEERS.filter((p) => plan(p, [a]).includes('bafyone'))
    const expected = rendezvousOrder('bafyone', ['uhCAkB', 'uhCAkC', 'uhCAkD']).slice(0, 2)
    expect(takers.sort()).toEqual(expected.sort())
  })

  it('nobody takes an artifact held enough, nor one already held here', () => {
    const a = art('bafyfull', ['uhCAkA', 'uhCAkB'])
    for (const p of PEERS) expect(plan(p, [a])).toEqual([])
  })

  it('an offline holder does not count, so the count is restored', () => {
    const a = art('bafyrestore', ['uhCAkA', 'uhCAkB'])
    const alive = ['uhCAkA', 'uhCAkC', 'uhCAkD']
    const takers = alive.filter((p) => plan(p, [a], { alive }).includes('bafyrestore'))
    expect(takers).toEqual(rendezvousOrder('bafyrestore', ['uhCAkC', 'uhCAkD']).slice(0, 1))
  })

  it('a peer without room skips; once overdue, any peer with room takes it', () => {
    const a = art('bafybig', ['uhCAkA'], 2, 100)
    const first = rendezvousOrder('bafybig', ['uhCAkB', 'uhCAkC', 'uhCAkD'])
    expect(plan(first[0]!, [a], { room: 50 })).toEqual([])
    expect(plan(first[1]!, [a])).toEqual([])
    expect(plan(first[1]!, [a], { overdue: ['bafybig'] })).toEqual(['bafybig'])
  })

  it('the most urgent first, within the room left', () => {
    const urgent = art('bafyurgent', [], 2, 10)
    const later = art('bafylater', ['uhCAkA'], 3, 10)
    const self = 'uhCAkB'
    const all = plan(self, [later, urgent], { overdue: ['bafyurgent', 'bafylater'] })
    expect(all).toEqual(['bafyurgent', 'bafylater'])
    expect(plan(self, [later, urgent], { overdue: ['bafyurgent', 'bafylater'], room: 10 })).toEqual([
      'bafyurgent',
    ])
  })
})

describe('trimming surplus replicas', () => {
  const trim = (self: string, artifacts: PlanArtifact[], replicas: string[], alive = PEERS) =>
    planTrim({ self, alive: new Set(alive), artifacts, replicas: new Set(replicas) })

  it('of three holders for two, exactly one replica lets go, the same one whoever decides', () => {
    const a = { ...art('bafytrim', ['uhCAkA', 'uhCAkB', 'uhCAkC']), author: 'uhCAkA' }
    const [keep, drop] = rendezvousOrder('bafytrim', ['uhCAkB', 'uhCAkC'])
    expect(trim(drop!, [a], ['bafytrim'])).toEqual(['bafytrim'])
    expect(trim(keep!, [a], ['bafytrim'])).toEqual([])
  })

  it('the author keeps its copy even when it ranks last', () => {
    for (const author of ['uhCAkA', 'uhCAkB', 'uhCAkC']) {
      const a = { ...art('bafyauthor', ['uhCAkA', 'uhCAkB', 'uhCAkC'], 1), author }
      const trimmed = ['uhCAkA', 'uhCAkB', 'uhCAkC'].filter((p) => trim(p, [a], ['bafyauthor']).length > 0)
      expect(trimmed.sort()).toEqual(['uhCAkA', 'uhCAkB', 'uhCAkC'].filter((p) => p !== author))
    }
  })

  it.each([
    ['the copy is the user’s own, not a replica', ['uhCAkA', 'uhCAkB', 'uhCAkC'], [], PEERS],
    [
      'a surplus holder is offline, so the live count is exact',
      ['uhCAkA', 'uhCAkB', 'uhCAkC'],
      ['bafyx'],
      ['uhCAkA', 'uhCAkB', 'uhCAkC'].slice(0, 2).concat('uhCAkD'),
    ],
    ['holders are exactly the replication', ['uhCAkA', 'uhCAkB'], ['bafyx'], PEERS],
  ])('nothing is released when %s', (_why, holders, replicas, alive) => {
    const a = { ...art('bafyx', holders), author: 'uhCAkA' }
    for (const self of holders) expect(trim(self, [a], replicas, alive)).toEqual([])
  })
})

describe('releasing down to a lowered quota', () => {
  const release = (artifacts: PlanArtifact[], excess: number, alive = PEERS) =>
    planRelease({ self: 'uhCAkA', alive: new Set(alive), artifacts, excess })

  it.each([
    ['within the quota: nothing', 0, []],
    ['the most copied elsewhere goes first', 1, ['bafythree']],
    ['then the largest of equals, until enough is freed', 15, ['bafythree', 'bafybig']],
    ['everything when the quota is zero', 1_000, ['bafythree', 'bafybig', 'bafysmall', 'bafyonly']],
  ])('%s', (_why, excess, expected) => {
    const artifacts = [
      art('bafyonly', ['uhCAkA'], 1, 10),
      art('bafysmall', ['uhCAkA', 'uhCAkB'], 2, 5),
      art('bafybig', ['uhCAkA', 'uhCAkC'], 2, 20),
      art('bafythree', ['uhCAkA', 'uhCAkB', 'uhCAkC', 'uhCAkD'], 2, 1),
      art('bafynotmine', ['uhCAkB'], 1, 50),
    ]
    expect(release(artifacts, excess)).toEqual(expected)
  })

  it('an offline holder is no copy', () => {
    const artifacts = [
      art('bafyx', ['uhCAkA', 'uhCAkB', 'uhCAkC'], 2, 10),
      art('bafyy', ['uhCAkA', 'uhCAkD'], 2, 10),
    ]
    expect(release(artifacts, 5, ['uhCAkA', 'uhCAkD'])).toEqual(['bafyy'])
  })
})
