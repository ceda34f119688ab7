/**
 * A conversation goes back to the runner holding its prompt cache: remembered by the rolling hash of
 * its messages (the longest remembered prefix wins, bounded, for a while), and put first by the route
 * planner while that runner has the model loaded and a slot free; let go when it is busy, gone, or
 * lost the model.
 */
import { describe, expect, it } from 'vitest'
import {
  AFFINITY_TTL_MS,
  ConversationAffinity,
  prefixKeys,
} from '../../../../host/scheduler/direct/conversation-affinity.ts'
import { planRoute, type RoutePlanInput } from '../../../../host/scheduler/direct/route-plan.ts'
import type { Heartbeat, NodeCapability } from '../../../../zomes-bindings/index.ts'

const user = (content: string) => ({ role: 'user', content })
const assistant = (content: string) => ({ role: 'assistant', content })

describe('ConversationAffinity', () => {
  it('keys every prefix: the same messages the same keys, another message another key', () => {
    const a = prefixKeys([user('hi'), assistant('hello'), user('how?')])
    expect(a).toHaveLength(3)
    expect(prefixKeys([user('hi'), assistant('hello')])).toEqual(a.slice(0, 2))
    expect(prefixKeys([user('hi'), assistant('bye')])[1]).not.toBe(a[1])
  })

  it('sends the next turn home: the conversation answered plus the answer and a new question', () => {
    const affinity = new ConversationAffinity()
    const turn1 = ['qwen', user('plan a trip')]
    affinity.answered(turn1, 'runner-a', 1_000)
    const turn2 = [...turn1, assistant('where to?'), user('Lisbon')]
    expect(affinity.home(turn2, 2_000)).toBe('runner-a')
    affinity.answered(turn2, 'runner-b', 3_000)
    // The longest prefix remembered wins.
    expect(affinity.home([...turn2, assistant('ok'), user('and back?')], 4_000)).toBe('runner-b')
    // Another model's conversation with the same messages is another conversation.
    expect(affinity.home(['llama', user('plan a trip'), assistant('where to?')], 4_000)).toBeNull()
    expect(affinity.home([user('something else')], 4_000)).toBeNull()
  })

  it('forgets a conversation idle past its time, and the oldest beyond its bound', () => {
    const affinity = new ConversationAffinity()
    affinity.answered(['qwen', user('old')], 'runner-a', 0)
    expect(affinity.home(['qwen', user('old'), user('more')], AFFINITY_TTL_MS + 1)).toBeNull()
    for (let i = 0; i < 5_000; i++) affinity.answered(['qwen', user(`conversation ${i}`)], 'r', 1)
    expect(affinity.size).toBe(4096)
    expect(affinity.home(['qwen', user('conversation 0'), user('x')], 2)).toBeNull()
    expect(affinity.home(['qwen', user('conversation 4999'), user('x')], 2)).toBe('r')
  })
})

type Peer = RoutePlanInput['peers'][number]
const peer = (agent: string, loaded: boolean | null, slotsFree: number, cpu = 10): Peer => ({
  agent,
  self: false,
  status: 'online',
  capability: {
    inference: { models: loaded === null ? [] : [{ name: 'qwen', loaded, size_bytes: 1000 }] },
  } as unknown as NodeCapability,
  load: { cpu_pct: cpu, slots_free: slotsFree } as Heartbeat,
})
const order = (peers: Peer[], home: string | null) =>
  planRoute({ peers, model: 'qwen', outstanding: new Map(), needBytes: 1000, home }).map((c) => c.agent)

describe('planRoute with a conversation home', () => {
  it.each([
    ['no home: most free slots first', [peer('a', true, 1), peer('b', true, 3)], null, ['b', 'a']],
    ['home first while it has a slot free', [peer('a', true, 1, 90), peer('b', true, 3)], 'a', ['a', 'b']],
    ['home busy: let go', [peer('a', true, 0), peer('b', true, 3)], 'a', ['b', 'a']],
    ['home lost the model: let go', [peer('a', null, 4), peer('b', true, 1)], 'a', ['b']],
    ['home unloaded it: not first', [peer('a', false, 4), peer('b', true, 1)], 'a', ['b', 'a']],
    ['home gone from the mesh', [peer('b', true, 1), peer('c', true, 2)], 'a', ['c', 'b']],
  ] as const)('%s', (_, peers, home, expected) => {
    expect(order([...peers], home)).toEqual(expected)
  })
})
