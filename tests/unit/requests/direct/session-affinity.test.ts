/**
 * An agent that names its session (Claude Code, Codex, opencode) keeps its runner by that session,
 * whatever its messages (a compaction rewrites them all); a subagent's first turn goes to its parent
 * conversation's runner while that one has room, and to a free one when it has none. Without a
 * session the prefix hash stands.
 */
import { describe, expect, it } from 'vitest'
import type { AgentSession } from '../../../../host/requests/agent-session.ts'
import {
  affinityKeys,
  ConversationAffinity,
  prefixKeys,
} from '../../../../host/requests/direct/conversation-affinity.ts'
import { planRoute, type RoutePlanInput } from '../../../../host/requests/direct/route-plan.ts'
import type { Heartbeat, NodeCapability } from '../../../../zomes-bindings/index.ts'

const user = (content: string) => ({ role: 'user', content })
const main: AgentSession = { agent: 'claude-code', id: 'ses-1', thread: null, parent: null }
const subagent: AgentSession = { ...main, thread: 'agent-7' }

describe('affinity by agent session', () => {
  it('keeps a session on its runner whatever its messages', () => {
    const affinity = new ConversationAffinity()
    affinity.answered(affinityKeys('qwen', [user('hi')], main)!, 'runner-a', 1_000)
    // The next turn, its messages rewritten (a compaction): the same session, the same runner.
    expect(affinity.home(affinityKeys('qwen', [user('summary so far')], main)!, 2_000)).toBe('runner-a')
    // Another session with the same messages, another model, or no session: not at home there.
    expect(affinity.home(affinityKeys('qwen', [user('hi')], { ...main, id: 'ses-2' })!, 2_000)).toBeNull()
    expect(affinity.home(affinityKeys('llama', [user('hi')], main)!, 2_000)).toBeNull()
    expect(affinity.home(affinityKeys('qwen', [user('hi')], null)!, 2_000)).toBeNull()
  })

  it('falls back to the prefix hash without a session, and to nothing without messages', () => {
    expect(affinityKeys('qwen', [user('hi')], null)).toEqual(prefixKeys(['qwen', user('hi')]))
    expect(affinityKeys('qwen', null, null)).toBeNull()
    expect(affinityKeys('qwen', null, main)).toHaveLength(1)
  })

  it("sends a subagent's first turn to its parent's runner, then keeps it on its own", () => {
    const affinity = new ConversationAffinity()
    affinity.answered(affinityKeys('qwen', [user('main')], main)!, 'runner-a', 1_000)
    expect(affinity.home(affinityKeys('qwen', [user('task')], subagent)!, 2_000)).toBe('runner-a')
    // It ran elsewhere (the parent's runner was full): its next turns go where its own cache is.
    affinity.answered(affinityKeys('qwen', [user('task')], subagent)!, 'runner-b', 3_000)
    expect(affinity.home(affinityKeys('qwen', [user('task'), user('more')], subagent)!, 4_000)).toBe(
      'runner-b',
    )
    // The parent stays where it was; a subagent of the subagent starts at runner-b.
    expect(affinity.home(affinityKeys('qwen', [user('main 2')], main)!, 4_000)).toBe('runner-a')
    const nested = { ...main, thread: 'agent-9', parent: 'agent-7' }
    expect(affinity.home(affinityKeys('qwen', [user('sub-sub')], nested)!, 4_000)).toBe('runner-b')
  })

  type Peer = RoutePlanInput['peers'][number]
  const peer = (agent: string, slotsFree: number): Peer => ({
    agent,
    self: false,
    status: 'online',
    capability: {
      inference: { models: [{ name: 'qwen', loaded: true, size_bytes: 1000 }] },
    } as unknown as NodeCapability,
    load: { cpu_pct: 10, slots_free: slotsFree } as Heartbeat,
    last_heartbeat_ms_ago: 1_000,
  })
  const route = (peers: Peer[], home: string | null) =>
    planRoute({ peers, model: 'qwen', outstanding: new Map(), now: 11_000, needBytes: 1000, home }).map(
      (c) => c.agent,
    )

  it("puts the parent's runner first where it has room, behind the free ones where it has none", () => {
    const affinity = new ConversationAffinity()
    affinity.answered(affinityKeys('qwen', [user('main')], main)!, 'a', 1_000)
    const home = affinity.home(affinityKeys('qwen', [user('task')], subagent)!, 2_000)
    expect(route([peer('a', 1), peer('b', 3)], home)).toEqual(['a', 'b'])
    expect(route([peer('a', 0), peer('b', 3)], home)).toEqual(['b', 'a'])
  })
})
