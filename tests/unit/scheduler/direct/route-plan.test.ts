/**
 * Who runs a request routed straight to a runner: peers with the model loaded and a slot free first
 * (counting what this peer already sent them), then loaded but busy, then those with the file and
 * room to load it (counting what unloading its idle models frees), then the rest with the file; this
 * peer first within a tier, then the least loaded.
 */
import { describe, expect, it } from 'vitest'
import { planRoute, type RoutePlanInput } from '../../../../host/scheduler/direct/route-plan.ts'
import type { Heartbeat, NodeCapability } from '../../../../zomes-bindings/index.ts'

type Peer = RoutePlanInput['peers'][number]

function peer(
  agent: string,
  model: { loaded: boolean } | null,
  load: Partial<Heartbeat> | null,
  extra: Partial<Peer> = {},
): Peer {
  const models = model ? [{ name: 'qwen', loaded: model.loaded, size_bytes: 1000 }] : []
  return {
    agent,
    self: false,
    status: 'online',
    capability: { inference: { models } } as unknown as NodeCapability,
    load: load === null ? null : ({ cpu_pct: 10, ...load } as Heartbeat),
    ...extra,
  }
}

const plan = (peers: Peer[], outstanding: Record<string, number> = {}, needBytes: number | null = 1000) =>
  planRoute({ peers, model: 'qwen', outstanding: new Map(Object.entries(outstanding)), needBytes }).map(
    (c) => `${c.agent}:${c.tier}`,
  )

describe('planRoute', () => {
  const cases: [string, Peer[], Record<string, number>, string[]][] = [
    [
      'loaded with free slots first, most free first',
      [
        peer('a', { loaded: true }, { slots_free: 1 }),
        peer('b', { loaded: true }, { slots_free: 3 }),
        peer('c', { loaded: false }, { model_free_bytes: 5000 }),
      ],
      {},
      ['b:0', 'a:0', 'c:2'],
    ],
    [
      'requests already sent count against the slots a heartbeat reported',
      [peer('a', { loaded: true }, { slots_free: 2 }), peer('b', { loaded: true }, { slots_free: 2 })],
      { a: 2, b: 1 },
      ['b:0', 'a:1'],
    ],
    [
      'busy peers still come before ones that must load the model',
      [
        peer('a', { loaded: false }, { model_free_bytes: 5000 }),
        peer('b', { loaded: true }, { slots_free: 0 }),
      ],
      {},
      ['b:1', 'a:2'],
    ],
    [
      'a file without room to load it comes last',
      [
        peer('a', { loaded: false }, { model_free_bytes: 10 }),
        peer('b', { loaded: false }, { model_free_bytes: 5000 }),
      ],
      {},
      ['b:2', 'a:3'],
    ],
    [
      'this peer first among equals (no trip), then the least loaded',
      [
        peer('a', { loaded: true }, { slots_free: 2, cpu_pct: 90 }),
        peer('b', { loaded: true }, { slots_free: 2, cpu_pct: 5 }),
        peer('me', { loaded: true }, { slots_free: 2, cpu_pct: 50 }, { self: true }),
      ],
      {},
      ['me:0', 'b:0', 'a:0'],
    ],
    [
      'offline, revoked and model-less peers are never candidates',
      [
        peer('a', { loaded: true }, { slots_free: 4 }, { status: 'offline' }),
        peer('b', { loaded: true }, { slots_free: 4 }, { revoked: true }),
        peer('c', null, { slots_free: 4 }),
        peer('d', { loaded: true }, { slots_free: 1 }, { status: 'stale' }),
      ],
      {},
      ['d:0'],
    ],
    [
      'a loaded model without slot reports is free until this peer has sent it one',
      [peer('a', { loaded: true }, null), peer('b', { loaded: true }, null)],
      { a: 1 },
      ['b:0', 'a:1'],
    ],
  ]
  it.each(cases)('%s', (_name, peers, outstanding, expected) => {
    expect(plan(peers, outstanding)).toEqual(expected)
  })

  it('spreads a burst: each request sent lowers its runner below the other', () => {
    const peers = [
      peer('a', { loaded: true }, { slots_free: 4 }),
      peer('b', { loaded: true }, { slots_free: 4 }),
    ]
    const outstanding = new Map<string, number>()
    const picks: string[] = []
    for (let i = 0; i < 8; i++) {
      const [first] = planRoute({ peers, model: 'qwen', outstanding, needBytes: 1000 })
      picks.push(first!.agent)
      outstanding.set(first!.agent, (outstanding.get(first!.agent) ?? 0) + 1)
    }
    expect(picks.filter((p) => p === 'a')).toHaveLength(4)
    expect(picks.filter((p) => p === 'b')).toHaveLength(4)
  })
})

describe('planRoute counting room a peer can make by eviction', () => {
  const withRoom = (agent: string, free: number, evictable?: number) =>
    peer(agent, { loaded: false }, { model_free_bytes: free, model_evictable_bytes: evictable })

  it('ranks a peer whose idle models would make room with those that have room, before the rest', () => {
    expect(plan([withRoom('no-room', 100), withRoom('evicts', 400, 800), withRoom('room', 1500)])).toEqual([
      'evicts:2',
      'room:2',
      'no-room:3',
    ])
  })

  it('not when even its idle models together leave too little', () => {
    expect(plan([withRoom('short', 100, 500)])).toEqual(['short:3'])
  })
})
