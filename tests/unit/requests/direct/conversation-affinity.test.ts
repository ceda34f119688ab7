/**
 * A conversation goes back to the runner holding its prompt cache: remembered by the rolling hash of
 * its messages (the longest remembered prefix wins, bounded, for a while), and put first by the route
 * planner while that runner has the model loaded and a slot free (its heartbeat's, less what this peer
 * sent it since, plus what ended); let go when it is full, gone, or lost the model.
 */
import { describe, expect, it } from 'vitest'
import {
  AFFINITY_TTL_MS,
  ConversationAffinity,
  MAX_CONVERSATIONS,
  prefixKeys,
} from '../../../../host/requests/direct/conversation-affinity.ts'
import {
  planRoute,
  type RoutePlanInput,
  type SentRequest,
} from '../../../../host/requests/direct/route-plan.ts'
import type { Heartbeat, NodeCapability } from '../../../../zomes-bindings/index.ts'

const user = (content: string) => ({ role: 'user', content })
const assistant = (content: string) => ({ role: 'assistant', content })
const keys = (...messages: unknown[]) => prefixKeys(messages)

describe('ConversationAffinity', () => {
  it('keys every prefix: the same messages the same keys, another message another key', () => {
    const a = keys(user('hi'), assistant('hello'), user('how?'))
    expect(a).toHaveLength(3)
    expect(keys(user('hi'), assistant('hello'))).toEqual(a.slice(0, 2))
    expect(keys(user('hi'), assistant('bye'))[1]).not.toBe(a[1])
    // A boundary moved is another conversation: the hash chains whole messages.
    expect(keys(user('hi'), assistant('hello how?'))[1]).not.toBe(a[1])
  })

  it('sends the next turn home: the conversation answered plus the answer and a new question', () => {
    const affinity = new ConversationAffinity()
    const turn1 = ['qwen', user('plan a trip')]
    affinity.answered(keys(...turn1), 'runner-a', 1_000)
    const turn2 = [...turn1, assistant('where to?'), user('Lisbon')]
    expect(affinity.home(keys(...turn2), 2_000)).toBe('runner-a')
    affinity.answered(keys(...turn2), 'runner-b', 3_000)
    // The longest prefix remembered wins ...
    expect(affinity.home(keys(...turn2, assistant('ok'), user('and back?')), 4_000)).toBe('runner-b')
    // ... and a branch from the first turn still goes where that turn was answered.
    expect(affinity.home(keys(...turn1, assistant('where to?'), user('Porto')), 4_000)).toBe('runner-a')
    // Another model's conversation with the same messages is another conversation.
    expect(affinity.home(keys('llama', user('plan a trip'), assistant('where to?')), 4_000)).toBeNull()
    expect(affinity.home(keys(user('something else')), 4_000)).toBeNull()
    expect(affinity.home([], 4_000)).toBeNull()
  })

  it('forgets a conversation idle past its time, and the least recently answered beyond its bound', () => {
    const affinity = new ConversationAffinity()
    affinity.answered(keys('qwen', user('old')), 'runner-a', 0)
    expect(affinity.home(keys('qwen', user('old'), user('more')), AFFINITY_TTL_MS - 1)).toBe('runner-a')
    expect(affinity.home(keys('qwen', user('old'), user('more')), AFFINITY_TTL_MS + 1)).toBeNull()
    affinity.answered(keys('qwen', user('conversation 0')), 'r', 1)
    for (let i = 1; i < MAX_CONVERSATIONS + 100; i++) {
      affinity.answered(keys('qwen', user(`conversation ${i}`)), 'r', 1)
      // A conversation answered again is recent again: it outlives those answered once since.
      if (i === 200) affinity.answered(keys('qwen', user('conversation 0')), 'r0', 1)
    }
    expect(affinity.size).toBe(MAX_CONVERSATIONS)
    expect(affinity.home(keys('qwen', user('conversation 1'), user('x')), 2)).toBeNull()
    expect(affinity.home(keys('qwen', user('conversation 0'), user('x')), 2)).toBe('r0')
    expect(affinity.home(keys('qwen', user(`conversation ${MAX_CONVERSATIONS + 99}`), user('x')), 2)).toBe(
      'r',
    )
  })
})

type Peer = RoutePlanInput['peers'][number]
/** A peer whose heartbeat (`slotsFree` of its slots free) arrived a second before now (11_000). */
const peer = (agent: string, loaded: boolean | null, slotsFree: number | null, cpu = 10): Peer => ({
  agent,
  self: false,
  status: 'online',
  capability: {
    inference: { models: loaded === null ? [] : [{ name: 'qwen', loaded, size_bytes: 1000 }] },
  } as unknown as NodeCapability,
  load: { cpu_pct: cpu, ...(slotsFree === null ? {} : { slots_free: slotsFree }) } as Heartbeat,
  last_heartbeat_ms_ago: 1_000,
})
const running = { at: 10_500, ended: null }
const endedSince = { at: 9_000, ended: 10_500 }
const order = (peers: readonly Peer[], home: string | null, sent: Record<string, SentRequest[]> = {}) =>
  planRoute({
    peers: [...peers],
    model: 'qwen',
    outstanding: new Map(Object.entries(sent)),
    now: 11_000,
    needBytes: 1000,
    home,
  }).map((c) => c.agent)

describe('planRoute with a conversation home', () => {
  it.each<[string, Peer[], string | null, Record<string, SentRequest[]>, string[]]>([
    ['no home: most free slots first', [peer('a', true, 1), peer('b', true, 3)], null, {}, ['b', 'a']],
    [
      'home first while it has a slot free',
      [peer('a', true, 1, 90), peer('b', true, 3)],
      'a',
      {},
      ['a', 'b'],
    ],
    [
      // The heartbeat caught this peer's last turn there running: it has ended since, its slot is free.
      'home first once a request of this peer ended there since its heartbeat said it was full',
      [peer('a', true, 0), peer('b', true, 4)],
      'a',
      { a: [endedSince] },
      ['a', 'b'],
    ],
    [
      'home full with what this peer sent it since its heartbeat: let go',
      [peer('a', true, 1), peer('b', true, 4)],
      'a',
      { a: [running] },
      ['b', 'a'],
    ],
    [
      // Its heartbeat came before the model loaded: the runner itself says if it is full.
      'home reporting no slots, with a request of this peer running there: first',
      [peer('a', true, null), peer('b', true, 3)],
      'a',
      { a: [running] },
      ['a', 'b'],
    ],
    [
      // A heartbeat may count a slot busy a moment after its request ended: the home is asked.
      'home full by the count, but a request of this peer ended there since its heartbeat: first',
      [peer('a', true, 0), peer('b', true, 4)],
      'a',
      { a: [endedSince, running] },
      ['a', 'b'],
    ],
    ['home full by its own report: let go', [peer('a', true, 0), peer('b', true, 3)], 'a', {}, ['b', 'a']],
    [
      'every runner full: home first among the busy (a request waits for a slot there)',
      [peer('a', true, 0), peer('b', true, 0, 1), peer('c', false, 0)],
      'a',
      {},
      ['a', 'b', 'c'],
    ],
    [
      'home full, another free, another busy: the free one, then home',
      [peer('a', true, 0), peer('b', true, 0, 1), peer('c', true, 2)],
      'a',
      {},
      ['c', 'a', 'b'],
    ],
    ['home lost the model: let go', [peer('a', null, 4), peer('b', true, 1)], 'a', {}, ['b']],
    ['home unloaded it: not first', [peer('a', false, 4), peer('b', true, 1)], 'a', {}, ['b', 'a']],
    ['home gone from the mesh', [peer('b', true, 1), peer('c', true, 2)], 'a', {}, ['c', 'b']],
  ])('%s', (_, peers, home, sent, expected) => {
    expect(order(peers, home, sent)).toEqual(expected)
  })

  it('lets go of a home gone offline or revoked', () => {
    const home = peer('a', true, 4)
    expect(order([{ ...home, status: 'offline' }, peer('b', true, 1)], 'a')).toEqual(['b'])
    expect(order([{ ...home, revoked: true }, peer('b', true, 1)], 'a')).toEqual(['b'])
  })
})
