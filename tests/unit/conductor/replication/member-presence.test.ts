import { createHash } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { planHandoffs } from '../../../../host/conductor/embedded/replication/handoff-runner.ts'
import {
  DIALS_PER_CHECK,
  MemberPresence,
  nextStanding,
  type PresenceEvent,
  type Standing,
} from '../../../../host/conductor/embedded/replication/member-presence.ts'
import { opHolders } from '../../../../host/conductor/embedded/replication/op-holders.ts'
import { holoHashFrom32 } from '../../../../host/identity/hash.ts'
import { agentOfPeerB64 } from '../../../../host/identity/peer-agent.ts'
import type { RippleNode } from '../../../../host/net/create-node.ts'
import { memoryNode } from '../../net/memory-fixtures.ts'
import { stopAll, testNetwork } from '../../net/net-fixtures.ts'

describe('the rule: gone only for a reason', () => {
  it.each([
    ['present', 'failed', 'suspect'],
    ['present', 'dial-failed', 'present'],
    ['present', 'seen', 'present'],
    ['suspect', 'dial-ok', 'present'],
    ['suspect', 'seen', 'present'],
    ['suspect', 'dial-failed', 'gone'],
    ['suspect', 'failed', 'suspect'],
    ['gone', 'failed', 'gone'],
    ['gone', 'seen', 'present'],
    ['gone', 'dial-ok', 'present'],
  ] as [Standing, PresenceEvent, Standing][])('%s, then %s: %s', (standing, event, next) => {
    expect(nextStanding(standing, event)).toBe(next)
  })
})

describe('which members count for placing ops', () => {
  it('keeps every unconnected member with nothing against it, however long', async () => {
    const dialled: string[] = []
    const presence = new MemberPresence({
      self: 'me',
      dial: async (a) => {
        dialled.push(a)
        return true
      },
    })
    const known = ['me', 'a', 'b', 'c']
    expect(presence.present(known, () => false)).toEqual(known)
    expect(await presence.check(() => false)).toBe(0)
    expect(dialled).toEqual([])
  })

  it('counts a member gone once a use of it failed and a dial failed too; anything of its brings it back', async () => {
    const up = new Set(['a'])
    const presence = new MemberPresence({ self: 'me', dial: async (a) => up.has(a) })
    const known = ['me', 'a', 'b', 'c']
    const present = () => presence.present(known, (agent) => agent === 'c')
    presence.failed('a')
    presence.failed('b')
    presence.failed('c')
    // A suspect still places ops until the dial says otherwise.
    expect(present()).toEqual(known)
    expect(await presence.check((agent) => agent === 'c')).toBe(2)
    expect(present()).toEqual(['me', 'a', 'c'])
    expect(presence.standing('b')).toBe('gone')
    presence.saw('b')
    expect(present()).toEqual(known)
  })

  it('dials a bounded number of suspects a check, whatever their count', async () => {
    let dials = 0
    const presence = new MemberPresence({
      self: 'me',
      dial: async () => {
        dials++
        return false
      },
    })
    const known = Array.from({ length: 1_000 }, (_, i) => `m${i}`)
    for (const agent of known) presence.failed(agent)
    expect(await presence.check(() => false)).toBe(DIALS_PER_CHECK)
    expect(dials).toBe(DIALS_PER_CHECK)
    expect(presence.present(known, () => false)).toHaveLength(known.length - DIALS_PER_CHECK)
  })
})

describe('presence over real peers', () => {
  const nodes: RippleNode[] = []
  afterAll(() => stopAll(nodes.slice(0, 2)))

  it('an unconnected member reachable by dial is not gone and gets no hand-off; a stopped one is', async () => {
    const network = testNetwork()
    for (let i = 0; i < 3; i++) nodes.push(await memoryNode({ network }))
    const [self, alive, dead] = nodes as [RippleNode, RippleNode, RippleNode]
    // This peer knows where both are (as a peer store does) and is connected to neither.
    for (const other of [alive, dead]) {
      await self.libp2p.peerStore.merge(other.peerId, { multiaddrs: other.libp2p.getMultiaddrs() })
    }
    await dead.stop()
    const agent = (node: RippleNode) => agentOfPeerB64(node.peerId)!
    const known = nodes.map(agent)
    const connected = (a: string) => self.peers.has(nodes.find((n) => agent(n) === a)!.peerId)
    expect(connected(agent(alive))).toBe(false)
    const presence = new MemberPresence({
      self: agent(self),
      dial: async (a) => {
        const node = nodes.find((n) => agent(n) === a)!
        await self.libp2p.dial(node.peerId, { signal: AbortSignal.timeout(5_000) })
        return true
      },
    })
    // A push to each failed (the holder busy, or stopped): both are suspects, then dialled.
    presence.failed(agent(alive))
    presence.failed(agent(dead))
    await presence.check(connected)
    const present = presence.present(known, connected)
    expect(present).toEqual([agent(self), agent(alive)])

    // Of the ops this peer holds (R = 2 of 3), only those the stopped member held are handed off.
    const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest())
    const dna = holoHashFrom32(sha256('dna'), 'dna')
    const ops = Array.from({ length: 60 }, (_, i) => holoHashFrom32(sha256(`op ${i}`), 'action'))
      .filter((hash) => opHolders(hash, known, 2).includes(agent(self)))
      .map((hash) => ({ hash, bases: [hash], author: agent(self) }))
    const plan = planHandoffs(dna, ops, { before: known, after: present, self: agent(self), holders: 2 })
    const heldBy = (hash: Uint8Array, who: RippleNode) => opHolders(hash, known, 2).includes(agent(who))
    expect(plan.length).toBeGreaterThan(0)
    for (const handoff of plan) expect(heldBy(handoff.hash, dead)).toBe(true)
    expect(plan.every((h) => h.to !== agent(self))).toBe(true)
  })
})
