/**
 * Which ways a member is dialled, in order: the peer store first, the addresses its heartbeats told
 * next, a directory walk last (member-dial.ts), and that dialMember keeps to that order.
 */
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { type DialStep, dialMember, dialPlan } from '../../../host/net/member-dial.ts'

const A = '/ip4/203.0.113.5/tcp/4001'
const B = '/ip4/198.51.100.7/tcp/4001'
const PEER = peerIdFromString('12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA')

describe('dialPlan', () => {
  const rows: [string, Parameters<typeof dialPlan>[0], DialStep[]][] = [
    ['stored only, no walk', { connected: false, stored: [A], told: [], canWalk: false }, ['stored']],
    ['stored, then the walk', { connected: false, stored: [A], told: [], canWalk: true }, ['stored', 'walk']],
    [
      'stored, told adds one, walk',
      { connected: false, stored: [A], told: [A, B], canWalk: true },
      ['stored', 'told', 'walk'],
    ],
    [
      'told only what the store has: not dialled again',
      { connected: false, stored: [A], told: [A], canWalk: true },
      ['stored', 'walk'],
    ],
    [
      'store lost it: told, then walk',
      { connected: false, stored: [], told: [B], canWalk: true },
      ['told', 'walk'],
    ],
    [
      'store lost it, nothing told: walk',
      { connected: false, stored: [], told: [], canWalk: true },
      ['walk'],
    ],
    [
      'connected, no address: the open one first',
      { connected: true, stored: [], told: [B], canWalk: true },
      ['stored', 'told', 'walk'],
    ],
    [
      'nothing at all: libp2p says why',
      { connected: false, stored: [], told: [], canWalk: false },
      ['stored'],
    ],
  ]
  it.each(rows)('%s', (_name, known, steps) => {
    expect(dialPlan(known)).toEqual(steps)
  })
})

/** A libp2p whose dial reaches `peer` only once one of `reachable` is in its peer store. */
function fakeLibp2p(stored: string[], reachable: string) {
  const addresses = new Set(stored)
  const dials: string[][] = []
  const libp2p = {
    getConnections: () => [],
    peerStore: {
      get: async () => ({ addresses: [...addresses].map((a) => ({ multiaddr: multiaddr(a) })) }),
      merge: async (_peer: PeerId, data: { multiaddrs: { toString(): string }[] }) => {
        for (const a of data.multiaddrs) addresses.add(a.toString())
      },
    },
    dial: async () => {
      dials.push([...addresses])
      if (!addresses.has(reachable)) throw new Error('dial failed')
      return { id: 'c' } as unknown as Connection
    },
  }
  return { libp2p: libp2p as unknown as Libp2p, dials, addresses }
}

describe('dialMember', () => {
  it('dials what the member told before walking, once the store fails', async () => {
    const { libp2p, dials } = fakeLibp2p([A], B)
    let walks = 0
    const connection = await dialMember(libp2p, PEER, undefined, {
      told: () => [multiaddr(B)],
      locate: async () => {
        walks++
        return false
      },
    })
    expect(connection).toEqual({ id: 'c' })
    expect(dials).toEqual([[A], [A, B]])
    expect(walks).toBe(0)
  })

  it('walks when the told addresses fail too, and says the first failure when the walk finds none', async () => {
    const { libp2p, dials } = fakeLibp2p([], '/ip4/192.0.2.1/tcp/1')
    let walks = 0
    const locate = async () => {
      walks++
      return false
    }
    await expect(dialMember(libp2p, PEER, undefined, { told: () => [multiaddr(B)], locate })).rejects.toThrow(
      'dial failed',
    )
    expect(dials).toEqual([[B]])
    expect(walks).toBe(1)
  })

  it('walks without dialling the same addresses twice when what was told is what the store had', async () => {
    const { libp2p, dials } = fakeLibp2p([A], B)
    let walks = 0
    const locate = async () => {
      walks++
      return false
    }
    await expect(dialMember(libp2p, PEER, undefined, { told: () => [multiaddr(A)], locate })).rejects.toThrow(
      'dial failed',
    )
    expect(dials).toEqual([[A]])
    expect(walks).toBe(1)
  })

  it('dials again after a walk that found the member', async () => {
    const found = '/ip4/192.0.2.1/tcp/1'
    const { libp2p, addresses } = fakeLibp2p([], found)
    const connection = await dialMember(libp2p, PEER, undefined, {
      locate: async () => {
        addresses.add(found)
        return true
      },
    })
    expect(connection).toEqual({ id: 'c' })
  })
})
