/**
 * Beyond what a requester knows: it asks the directory only when no known runner has the model loaded
 * and a slot free; it asks two of those found (sampled, never itself, never one whose breaker is open);
 * the answers, planned over with the known peers, pick the runner; one that did not answer is out.
 */
import { describe, expect, it } from 'vitest'
import { planRoute, type RoutePlanInput } from '../../../../host/requests/direct/route-plan.ts'
import {
  type LoadAnswer,
  mergeAnswers,
  needsDirectory,
  PROBES,
  probeTargets,
} from '../../../../host/requests/direct/runner-pick.ts'
import type { Heartbeat, NodeCapability } from '../../../../zomes-bindings/index.ts'

type Peer = RoutePlanInput['peers'][number]

const capability = (loaded: boolean) =>
  ({ inference: { models: [{ name: 'qwen', loaded, size_bytes: 1000 }] } }) as unknown as NodeCapability
const heartbeat = (slots: number) => ({ cpu_pct: 10, slots_free: slots }) as Heartbeat

function peer(agent: string, slots: number | null, extra: Partial<Peer> = {}): Peer {
  return {
    agent,
    self: false,
    status: 'online',
    capability: capability(slots !== null),
    load: slots === null ? null : heartbeat(slots),
    last_heartbeat_ms_ago: 100,
    ...extra,
  }
}

const order = (peers: Peer[], home: string | null = null) =>
  planRoute({ peers, model: 'qwen', outstanding: new Map(), needBytes: 1000, now: 10_000, home }).map(
    (c) => `${c.agent}:${c.tier}`,
  )

describe('needsDirectory', () => {
  const cases: [string, Peer[], boolean][] = [
    ['nobody known', [], true],
    ['a known runner with a slot free', [peer('a', 2)], false],
    ['known runners all busy', [peer('a', 0), peer('b', 0)], true],
    ['only the file, not loaded', [peer('a', null)], true],
    ['a busy one and a free one', [peer('a', 0), peer('b', 1)], false],
  ]
  it.each(cases)('%s', (_, peers, expected) => {
    const plan = planRoute({ peers, model: 'qwen', outstanding: new Map(), needBytes: 1000, now: 10_000 })
    expect(needsDirectory(plan)).toBe(expected)
  })
})

describe('probeTargets', () => {
  /** A fixed sequence in [0, 1). */
  const seq = (...values: number[]) => {
    let i = 0
    return () => values[i++ % values.length]!
  }
  const all = () => true
  const cases: [string, Parameters<typeof probeTargets>[0], string[]][] = [
    [
      'two of many, as the draw falls',
      { found: ['a', 'b', 'c', 'd'], self: 'me', passable: all, random: seq(0.99, 0) },
      ['d', 'b'],
    ],
    ['never this peer', { found: ['me', 'a'], self: 'me', passable: all, random: seq(0) }, ['a']],
    [
      'never an open breaker',
      { found: ['a', 'b', 'c'], self: 'me', passable: (a) => a !== 'a', random: seq(0) },
      ['b', 'c'],
    ],
    [
      'never one heard lately',
      { found: ['a', 'b', 'c'], self: 'me', passable: all, fresh: new Set(['b']), random: seq(0) },
      ['a', 'c'],
    ],
    ['duplicates once', { found: ['a', 'a', 'a'], self: 'me', passable: all, random: seq(0) }, ['a']],
    ['none found, none asked', { found: [], self: 'me', passable: all }, []],
    [
      'more asked when told',
      { found: ['a', 'b', 'c'], self: 'me', passable: all, probes: 3, random: seq(0) },
      ['a', 'b', 'c'],
    ],
  ]
  it.each(cases)('%s', (_, input, expected) => {
    expect(probeTargets(input)).toEqual(expected)
  })

  it('asks PROBES runners by default, each one found', () => {
    const found = Array.from({ length: 50 }, (_, i) => `r${i}`)
    const asked = probeTargets({ found, self: 'me', passable: () => true })
    expect(asked).toHaveLength(PROBES)
    expect(new Set(asked).size).toBe(PROBES)
    for (const agent of asked) expect(found).toContain(agent)
  })
})

describe('mergeAnswers, then planned', () => {
  const answer = (slots: number): LoadAnswer => ({
    capability: capability(true),
    heartbeat: heartbeat(slots),
  })
  const cases: [string, Peer[], [string, LoadAnswer][], string[], string | null, string[]][] = [
    [
      'a runner found and answering free goes before the known busy one',
      [peer('busy', 0)],
      [['far', answer(2)]],
      [],
      null,
      ['far:0', 'busy:1'],
    ],
    [
      'of two answers, the one with more free slots (power of two choices)',
      [],
      [
        ['x', answer(1)],
        ['y', answer(3)],
      ],
      [],
      null,
      ['y:0', 'x:0'],
    ],
    [
      'an answer replaces a stale report of the same runner',
      [peer('a', 0, { status: 'stale', last_heartbeat_ms_ago: 60_000 })],
      [['a', answer(1)]],
      [],
      null,
      ['a:0'],
    ],
    [
      'a known runner that did not answer is out of this request',
      [peer('dead', 0), peer('busy', 0)],
      [],
      ['dead'],
      null,
      ['busy:1'],
    ],
    [
      "the conversation's home goes first while it may have a slot",
      [],
      [
        ['x', answer(3)],
        ['home', answer(1)],
      ],
      [],
      'home',
      ['home:0', 'x:0'],
    ],
    [
      'a revoked runner stays out even when it answered',
      [peer('bad', 0, { revoked: true })],
      [['bad', answer(4)]],
      [],
      null,
      [],
    ],
  ]
  it.each(cases)('%s', (_, known, answers, failed, home, expected) => {
    const merged = mergeAnswers(known, new Map(answers), new Set(failed))
    expect(order(merged, home)).toEqual(expected)
  })
})
