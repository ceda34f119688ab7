/**
 * Who runs a request routed straight to a runner: peers with the model loaded and a slot free first
 * (what their heartbeat reported, less what this peer sent them since, plus what ended since), then
 * loaded but busy, then those with the file and room to load it (counting what unloading its idle
 * models frees), then the rest with the file; this peer first within a tier, then the least loaded.
 */
import { describe, expect, it } from 'vitest'
import {
  planRoute,
  type RoutePlanInput,
  type SentRequest,
} from '../../../../host/requests/direct/route-plan.ts'
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

/** `running` requests of this peer's on each runner, sent before any heartbeat it knows of. */
const inFlight = (running: Record<string, number>) =>
  new Map(
    Object.entries(running).map(([agent, n]) => [
      agent,
      Array.from({ length: n }, () => ({ at: 0, ended: null })),
    ]),
  )

const plan = (peers: Peer[], running: Record<string, number> = {}, needBytes: number | null = 1000) =>
  planRoute({ peers, model: 'qwen', outstanding: inFlight(running), needBytes }).map(
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
    const outstanding = new Map<string, SentRequest[]>()
    const picks: string[] = []
    for (let i = 0; i < 8; i++) {
      const [first] = planRoute({ peers, model: 'qwen', outstanding, needBytes: 1000 })
      picks.push(first!.agent)
      outstanding.set(first!.agent, [...(outstanding.get(first!.agent) ?? []), { at: i, ended: null }])
    }
    expect(picks.filter((p) => p === 'a')).toHaveLength(4)
    expect(picks.filter((p) => p === 'b')).toHaveLength(4)
  })
})

describe('planRoute spreading requests over runners whose heartbeats say no slots yet', () => {
  it('sends a burst 2 and 2 to two runners that loaded the model since their last heartbeat', () => {
    // Their heartbeats predate the load: no slots reported. One request each makes both "busy";
    // the next go where fewer of this peer's requests run (by CPU alone, all went to one: 3 and 1).
    const peers = [peer('a', { loaded: true }, { cpu_pct: 5 }), peer('b', { loaded: true }, { cpu_pct: 40 })]
    const outstanding = new Map<string, SentRequest[]>()
    const picks: string[] = []
    for (let i = 0; i < 4; i++) {
      const [first] = planRoute({ peers, model: 'qwen', outstanding, needBytes: 1000 })
      picks.push(first!.agent)
      outstanding.set(first!.agent, [...(outstanding.get(first!.agent) ?? []), { at: i, ended: null }])
    }
    expect(picks).toEqual(['a', 'b', 'a', 'b'])
  })
})

describe("planRoute counting this peer's requests against a heartbeat", () => {
  // The heartbeat arrived at 10_000 (1 s before now): it counts the slots of every request running then.
  const NOW = 11_000
  const heard = (agent: string, slotsFree: number) =>
    peer(agent, { loaded: true }, { slots_free: slotsFree }, { last_heartbeat_ms_ago: 1_000 })
  const free = (p: Peer, sent: SentRequest[]) =>
    planRoute({
      peers: [p],
      model: 'qwen',
      outstanding: new Map([[p.agent, sent]]),
      now: NOW,
      needBytes: 1000,
    })[0]?.free

  it.each<[string, number, SentRequest[], number]>([
    [
      'a request running since before the heartbeat is counted there already',
      2,
      [{ at: 9_000, ended: null }],
      2,
    ],
    ['one sent since takes a slot', 2, [{ at: 10_500, ended: null }], 1],
    ['one that ended since gives its slot back', 0, [{ at: 9_000, ended: 10_500 }], 1],
    ['one sent and ended since changes nothing', 1, [{ at: 10_200, ended: 10_400 }], 1],
    [
      // Four agent loops on a 4-slot home: the heartbeat caught all four running; three ended and went
      // again, and the fourth has ended too: its next turn finds a slot.
      'four conversations on four slots, each turn after the one before',
      0,
      [
        ...[1, 2, 3].map((i) => ({ at: 9_000, ended: 10_000 + i * 100 })),
        ...[1, 2, 3].map((i) => ({ at: 10_050 + i * 100, ended: null })),
        { at: 9_000, ended: 10_900 },
      ],
      1,
    ],
  ])('%s', (_, reported, sent, expected) => {
    expect(free(heard('a', reported), sent)).toBe(expected)
  })

  it("this peer's own slots by the time it sampled them (its heartbeat's timestamp)", () => {
    const me = peer('me', { loaded: true }, { slots_free: 1, timestamp: 10_000_000 }, { self: true })
    expect(free(me, [{ at: 9_000, ended: null }])).toBe(1)
    expect(free(me, [{ at: 10_500, ended: null }])).toBe(0)
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
