import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { holdersToAsk } from '../../../../host/conductor/embedded/replication/holder-order.ts'
import { opHolders } from '../../../../host/conductor/embedded/replication/op-holders.ts'
import { encodeHashB64, holoHashFrom32 } from '../../../../host/identity/hash.ts'

const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest())
const agentKey = (i: number) => encodeHashB64(holoHashFrom32(sha256(`member ${i}`), 'agent'))
const basis = holoHashFrom32(sha256('the op asked for'), 'action')
const mesh = Array.from({ length: 12 }, (_, i) => agentKey(i))
/** The plan over the whole mesh, closest first: the table below names members by their rank in it. */
const ranked = opHolders(basis, mesh, mesh.length)
const rank = (...ranks: number[]) => ranks.map((r) => ranked[r]!)

interface Row {
  what: string
  members: string[]
  holders: number
  self?: string
  barred?: string[]
  connected?: string[]
  asked: string[]
}

const rows: Row[] = [
  { what: 'the R closest, closest first', members: mesh, holders: 3, asked: rank(0, 1, 2) },
  {
    what: 'itself one of them: the others only',
    members: mesh,
    holders: 3,
    self: ranked[1],
    asked: rank(0, 2),
  },
  {
    what: 'itself not a holder: all R',
    members: mesh,
    holders: 3,
    self: ranked[7],
    asked: rank(0, 1, 2),
  },
  {
    what: 'a warranted or revoked one is no member: the next closest holds in its place',
    members: mesh,
    holders: 3,
    barred: rank(0),
    asked: rank(1, 2, 3),
  },
  {
    what: 'connected ones first, each group closest first',
    members: mesh,
    holders: 4,
    connected: rank(3, 1),
    asked: rank(1, 3, 0, 2),
  },
  {
    what: 'a mesh of R or fewer: every other member',
    members: rank(5, 2, 9),
    holders: 8,
    self: ranked[2],
    asked: rank(5, 9),
  },
  { what: 'a mesh of one: nobody to ask', members: rank(4), holders: 8, self: ranked[4], asked: [] },
  {
    what: 'members listed twice count once',
    members: [...rank(0, 1), ...rank(0, 1)],
    holders: 8,
    asked: rank(0, 1),
  },
]

describe('the holders a get asks', () => {
  it.each(rows)('$what', (row) => {
    const barred = new Set(row.barred ?? [])
    const connected = new Set(row.connected ?? [])
    expect(
      holdersToAsk({
        basis,
        members: row.members,
        holders: row.holders,
        self: row.self ?? agentKey(99),
        barred: (agent) => barred.has(agent),
        connected: (agent) => connected.has(agent),
      }),
    ).toEqual(row.asked)
  })
})
