import { describe, expect, it } from 'vitest'
import { PeerView } from '../../../host/registry/peer-view.ts'
import type { EntryRecord, Heartbeat, NodeCapability } from '../../../zomes-bindings/index.ts'
import { CAPABILITY } from '../api/fixtures.ts'

const config = { interval_ms: 1000, stale_after_missed: 3, offline_after_ms: 10_000 }
const NOW = 5_000_000
const heartbeat: Heartbeat = {
  cpu_pct: 10,
  ram_pct: 20,
  gpu_pct: null,
  queue_depth: 0,
  timestamp: NOW * 1000,
}

const record = (author: string, name: string): EntryRecord<NodeCapability> => ({
  action_hash: `action-${author}`,
  author,
  timestamp: NOW * 1000,
  entry: { ...CAPABILITY, name },
})

describe('PeerView', () => {
  it('names the other peers heard from lately, online or stale, not offline ones or itself', () => {
    const view = new PeerView('me', config)
    view.recordHeartbeat('me', heartbeat, NOW)
    view.recordHeartbeat('alice', heartbeat, NOW - 500)
    view.recordHeartbeat('bob', heartbeat, NOW - 5000)
    view.recordHeartbeat('carol', heartbeat, NOW - 20_000)
    expect(view.liveOthers(NOW)).toEqual(['alice', 'bob'])
    expect(view.onlineOthers(NOW)).toBe(2)
  })

  it.each<[string, number, string[]]>([
    // A restarted peer has heard nobody: every member known by its capability may be about to say hello.
    ['just started: every known member, and those heard', 1_000, ['alice', 'bob', 'dave']],
    [
      'started long enough ago for a silent member to be offline: those heard lately',
      10_000,
      ['alice', 'bob'],
    ],
  ])('awaits for a new form: %s', (_, sinceStart, awaited) => {
    const view = new PeerView('me', config)
    view.recordHeartbeat('alice', heartbeat, NOW - 500)
    view.recordHeartbeat('bob', heartbeat, NOW - 5000)
    view.recordHeartbeat('carol', heartbeat, NOW - 20_000)
    expect(view.awaitedOthers(['me', 'alice', 'dave'], NOW - sinceStart, NOW).sort()).toEqual(awaited)
  })

  it('always lists self first and online, even with no other peer', () => {
    const view = new PeerView('me', config)
    const peers = view.list([], { capability: CAPABILITY, load: null }, NOW)
    expect(peers).toEqual([expect.objectContaining({ agent: 'me', self: true, status: 'online' })])
  })

  it('joins capability entries with heartbeats and derives each status', () => {
    const view = new PeerView('me', config)
    view.recordHeartbeat('alice', heartbeat, NOW - 500)
    view.recordHeartbeat('bob', heartbeat, NOW - 5000)
    view.recordHeartbeat('carol', heartbeat, NOW - 20_000)
    const nodes = [
      record('me', 'self'),
      record('alice', 'alice'),
      record('bob', 'bob'),
      record('dave', 'dave'),
    ]
    const peers = view.list(nodes, { capability: CAPABILITY, load: heartbeat }, NOW)
    expect(peers.map((p) => [p.agent, p.status])).toEqual([
      ['me', 'online'],
      ['alice', 'online'],
      ['bob', 'stale'],
      // carol was heard but has no capability entry yet; dave has one but was never heard.
      ['carol', 'offline'],
      ['dave', 'offline'],
    ])
    expect(peers.find((p) => p.agent === 'alice')).toMatchObject({
      name: 'alice',
      load: heartbeat,
      last_heartbeat_ms_ago: 500,
    })
    expect(peers.find((p) => p.agent === 'carol')?.name).toBeNull()
    expect(peers.find((p) => p.agent === 'dave')?.last_heartbeat_ms_ago).toBeNull()
  })
})
