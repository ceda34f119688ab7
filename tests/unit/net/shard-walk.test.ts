/**
 * Reading a directory shard: the walk joins the answers of as many holders as asked (the directory
 * asks one), names each runner once, never this peer, and stops there.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { EventTypes, type QueryEvent } from '@libp2p/kad-dht'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { beforeAll, describe, expect, it } from 'vitest'
import { walkShard } from '../../../host/net/shard-walk.ts'

const ids: PeerId[] = []
const peer = (i: number) => ids[i]!
const SELF = 0

const sent = (to: number) => ({ type: EventTypes.SEND_QUERY, to: peer(to) })
const response = (from: number, closer: number[]) => ({
  type: EventTypes.PEER_RESPONSE,
  from: peer(from),
  closer: closer.map((i) => ({ id: peer(i), multiaddrs: [] })),
})
const provider = (from: number, runners: number[]) => ({
  type: EventTypes.PROVIDER,
  from: peer(from),
  providers: runners.map((i) => ({ id: peer(i), multiaddrs: [] })),
})

/** Events as kad-dht yields them; `pulled` counts those the walk read. */
function stream(events: object[], fail?: Error) {
  const seen = { pulled: 0 }
  async function* run() {
    for (const event of events) {
      seen.pulled++
      yield event as QueryEvent
    }
    if (fail) throw fail
  }
  return { events: run(), seen }
}

beforeAll(async () => {
  for (let i = 0; i < 12; i++) ids.push(peerIdFromPrivateKey(await generateKeyPair('Ed25519')))
})

describe('walkShard', () => {
  const cases: {
    name: string
    events: () => object[]
    runners: number[]
    hops: number
    queries: number
    pulled: number
  }[] = [
    {
      name: 'two holders each naming a different runner: both, the walk stops at the second',
      events: () => [
        sent(1),
        response(1, [2, 3]),
        provider(1, [7]),
        sent(2),
        provider(2, [8]),
        sent(3),
        provider(3, [9]),
      ],
      runners: [7, 8],
      hops: 1,
      queries: 2,
      pulled: 5,
    },
    {
      name: 'this peer holding the key counts as a holder at hop 0, and is never named itself',
      events: () => [provider(SELF, [SELF, 7]), sent(1), provider(1, [7, 8]), sent(2), provider(2, [9])],
      runners: [7, 8],
      hops: 0,
      queries: 1,
      pulled: 3,
    },
    {
      name: 'one holder only: the walk reads to its end',
      events: () => [sent(1), response(1, [2]), sent(2), provider(2, [7, 8]), sent(3), response(3, [])],
      runners: [7, 8],
      hops: 2,
      queries: 3,
      pulled: 6,
    },
    {
      name: 'a holder naming only this peer, or nobody, is not one of the two',
      events: () => [
        provider(1, [SELF]),
        provider(2, []),
        provider(3, [7]),
        provider(4, [7]),
        provider(5, [8]),
      ],
      runners: [7],
      hops: 1,
      queries: 0,
      pulled: 4,
    },
    {
      name: 'nothing held: no runner',
      events: () => [sent(1), response(1, [2]), sent(2), response(2, [])],
      runners: [],
      hops: Number.POSITIVE_INFINITY,
      queries: 2,
      pulled: 4,
    },
  ]

  it.each(cases)('two holders asked: $name', async (c) => {
    const { events, seen } = stream(c.events())
    const walk = await walkShard(events, peer(SELF), 2)
    expect(walk.providers.map((p) => ids.findIndex((id) => id.equals(p.id)))).toEqual(c.runners)
    expect(walk.hops).toBe(c.hops)
    expect(walk.queries).toBe(c.queries)
    expect(seen.pulled).toBe(c.pulled)
    expect(walk.error).toBeNull()
  })

  it("the directory's read stops at the first holder, this peer's own store among them", async () => {
    const { events, seen } = stream([provider(SELF, [7]), sent(1), provider(1, [8])])
    const walk = await walkShard(events, peer(SELF))
    expect(walk.providers.map((p) => p.id.toString())).toEqual([peer(7).toString()])
    expect(walk.hops).toBe(0)
    expect(seen.pulled).toBe(1)
  })

  it('a walk that fails keeps what it found before, and says why', async () => {
    const { events } = stream([provider(1, [7])], new Error('stream reset'))
    const walk = await walkShard(events, peer(SELF), 2)
    expect(walk.providers.map((p) => p.id.toString())).toEqual([peer(7).toString()])
    expect(walk.error?.message).toBe('stream reset')
  })
})
