import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { TypedEventEmitter } from 'main-event'
import { describe, expect, it } from 'vitest'
import {
  STATED_ON_TOPIC_EVERY_MS,
  type TopicGossip,
  type TopicNews,
} from '../../../../host/conductor/embedded/replication/gossip-signal-transport.ts'
import { createGossipSignalTransport } from '../../../../host/conductor/embedded/replication/index.ts'
import { decodeMsgpack, encodeCanonical } from '../../../../host/identity/canonical.ts'
import { encodeHashB64 } from '../../../../host/identity/hash.ts'
import { type AgentKey, openAgentKey } from '../../../../host/identity/keystore.ts'
import type { Signal } from '../../../../host/interface/conductor-port.ts'
import { OWN_STATEMENT } from '../../../../host/interface/release.ts'
import { PeerVersions } from '../../../../host/net/mesh-versions.ts'
import { peerKeyFromSeed } from '../../../../host/net/peer-key.ts'
import type {
  GossipChannel,
  GossipVerdict,
  RipplePubsub,
  RipplePubsubEvents,
} from '../../../../host/net/pubsub.ts'
import { tempDir } from '../fixtures/test-cell.ts'

/** Gossip between in-process members: what one publishes, every other receives. */
class FakeGossip extends TypedEventEmitter<RipplePubsubEvents> implements RipplePubsub {
  readonly sent: Uint8Array[] = []
  /** This member's verdict on each message it received, in order (what it would pass on). */
  readonly verdicts: GossipVerdict[] = []

  constructor(
    private readonly members: FakeGossip[],
    private readonly key: AgentKey,
  ) {
    super()
    members.push(this)
  }

  async publish(channel: GossipChannel, data: Uint8Array): Promise<number> {
    this.sent.push(data)
    const from = peerIdFromPrivateKey(await peerKeyFromSeed(this.key.exportSeed()))
    const others = this.members.filter((m) => m !== this)
    for (const member of others) {
      const verdict = (v: GossipVerdict) => member.verdicts.push(v)
      member.safeDispatchEvent(channel === 'signals' ? 'signal' : 'op', { detail: { data, from, verdict } })
    }
    return others.length
  }

  subscribers() {
    return []
  }

  meshSize() {
    return this.members.length - 1
  }

  /** Delivers raw bytes to every other member, as a forger on the channel would. */
  inject(data: Uint8Array, from: FakeGossip): void {
    void from.publish('signals', data)
  }
}

async function twoPeers() {
  const members: FakeGossip[] = []
  const [aliceKey, bobKey, malloryKey] = await Promise.all(
    [1, 2, 3].map(async () => openAgentKey(await tempDir())),
  )
  const gossip = [aliceKey!, bobKey!, malloryKey!].map((key) => new FakeGossip(members, key))
  const alice = createGossipSignalTransport({ pubsub: gossip[0]!, key: aliceKey! })
  const bob = createGossipSignalTransport({ pubsub: gossip[1]!, key: bobKey! })
  const heardByAlice: Signal[] = []
  const heardByBob: Signal[] = []
  alice.onReceive((s) => heardByAlice.push(s))
  bob.onReceive((s) => heardByBob.push(s))
  return { alice, bob, aliceKey: aliceKey!, malloryKey: malloryKey!, gossip, heardByAlice, heardByBob }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 10))

describe('signals over gossip', () => {
  it('reach the sender itself and every peer, named by the agent that signed them', async () => {
    const { alice, aliceKey, gossip, heardByAlice, heardByBob } = await twoPeers()
    await alice.broadcast({ dna: 'agent_registry', from: 'ignored', payload: { cpu_pct: 5 } })
    await tick()
    const expected = {
      dna: 'agent_registry',
      from: encodeHashB64(aliceKey.agentPubKey),
      payload: { cpu_pct: 5 },
    }
    expect(heardByAlice).toEqual([expected])
    expect(heardByBob).toEqual([expected])
    // Bob would pass it on.
    expect(gossip[1]!.verdicts).toEqual(['accept'])
  })

  it('drops a signal that names another agent than the one that signed it, and replays', async () => {
    const { alice, aliceKey, malloryKey, gossip, heardByBob } = await twoPeers()
    await alice.broadcast({ dna: 'agent_registry', from: '', payload: { n: 1 } })
    await tick()
    const genuine = gossip[0]!.sent[0]!
    // Replayed by mallory: alice's signature, but seen before.
    gossip[2]!.inject(genuine, gossip[2]!)
    // Forged: alice named as sender, signed by mallory.
    const body = encodeCanonical({
      dna: 'agent_registry',
      from: aliceKey.agentPubKey,
      payload: { n: 2 },
      ts: Date.now() * 1000 + 5,
    })
    gossip[2]!.inject(encodeCanonical({ v: 1, body, sig: malloryKey.sign(body) }), gossip[2]!)
    // Stale: signed by alice, but from long ago.
    const old = encodeCanonical({
      dna: 'agent_registry',
      from: aliceKey.agentPubKey,
      payload: { n: 3 },
      ts: 1,
    })
    gossip[2]!.inject(encodeCanonical({ v: 1, body: old, sig: aliceKey.sign(old) }), gossip[2]!)
    gossip[2]!.inject(new Uint8Array([0xc1]), gossip[2]!)
    await tick()
    expect(heardByBob.map((s) => s.payload)).toEqual([{ n: 1 }])
    // Only the genuine one goes on; the forgery and the garbage count against the peer that sent them.
    expect(gossip[1]!.verdicts).toEqual(['accept', 'ignore', 'reject', 'ignore', 'reject'])
  })
})

describe("a sender's release statement", () => {
  /** Alice and Bob never connected (no hello): Bob counts Alice a member all the same. */
  async function unmet(aliceSays: boolean) {
    const members: FakeGossip[] = []
    const [aliceKey, bobKey] = await Promise.all([1, 2].map(async () => openAgentKey(await tempDir())))
    const alice = encodeHashB64(aliceKey!.agentPubKey)
    const bobBook = new PeerVersions({ self: encodeHashB64(bobKey!.agentPubKey), members: () => [alice] })
    const aliceBook = new PeerVersions({ self: alice })
    const aliceSignals = createGossipSignalTransport({
      pubsub: new FakeGossip(members, aliceKey!),
      key: aliceKey!,
      ...(aliceSays ? { versions: aliceBook } : {}),
    })
    const bob = createGossipSignalTransport({
      pubsub: new FakeGossip(members, bobKey!),
      key: bobKey!,
      versions: bobBook,
    })
    // A third member on the channel that passes on what it is given.
    const relay = new FakeGossip(members, aliceKey!)
    const heard: Signal[] = []
    bob.onReceive((s) => heard.push(s))
    return { alice, aliceKey: aliceKey!, aliceSignals, bobBook, relay, heard }
  }

  it("rides on a mesh-wide signal: a member never met says what it reads, and a new form's gate opens", async () => {
    const { alice, aliceSignals, bobBook } = await unmet(true)
    // Unheard, Alice counts as a release before statements: records are not sharded (issue 57).
    expect(bobBook.everySpeaks('record', 1)).toBe(false)
    await aliceSignals.broadcast({ dna: 'agent_registry', from: '', payload: { cpu_pct: 1 } })
    await tick()
    expect(bobBook.of(alice)).toEqual(OWN_STATEMENT)
    expect(bobBook.everySpeaks('record', 1)).toBe(true)
  })

  it('is not guessed for a sender that tells none (an earlier release), nor taken when malformed', async () => {
    const { alice, aliceKey, aliceSignals, bobBook, relay, heard } = await unmet(false)
    await aliceSignals.broadcast({ dna: 'agent_registry', from: '', payload: { n: 1 } })
    const body = encodeCanonical({
      dna: 'agent_registry',
      from: aliceKey.agentPubKey,
      payload: { n: 2 },
      ts: Date.now() * 1000 + 5_000,
      release: { release: '9.9.9', protocols: 'all of them' },
    })
    relay.inject(encodeCanonical({ v: 1, body, sig: aliceKey.sign(body) }), relay)
    await tick()
    expect(bobBook.of(alice)).toBeUndefined()
    expect(bobBook.everySpeaks('record', 1)).toBe(false)
    // Both signals still heard: a statement read apart costs the signal nothing.
    expect(heard.map((s) => s.payload)).toEqual([{ n: 1 }, { n: 2 }])
  })
})

/** A model's topic between in-process members: what one publishes, the members that joined receive. */
class FakeTopics extends TypedEventEmitter<{ news: CustomEvent<TopicNews> }> implements TopicGossip {
  readonly joined = new Set<string>()
  readonly sent: Uint8Array[] = []
  /** What each publish answers: 'held' as the topic's pace does while it waits. */
  outcome: 'sent' | 'held' = 'sent'

  constructor(
    private readonly members: FakeTopics[],
    private readonly key: AgentKey,
  ) {
    super()
    members.push(this)
  }

  join(model: string) {
    this.joined.add(model)
  }

  leave(model: string) {
    this.joined.delete(model)
  }

  async publish(model: string, data: Uint8Array) {
    this.sent.push(data)
    const from = peerIdFromPrivateKey(await peerKeyFromSeed(this.key.exportSeed()))
    for (const member of this.members)
      if (member !== this && member.joined.has(model))
        member.safeDispatchEvent('news', { detail: { model, data, from, verdict: () => {} } })
    return this.outcome
  }
}

describe('signals on a model topic', () => {
  it('reach the members that joined it only, signed, with their topic', async () => {
    const gossip: FakeGossip[] = []
    const members: FakeTopics[] = []
    const keys = await Promise.all([1, 2, 3].map(async () => openAgentKey(await tempDir())))
    const [runner, user, bystander] = keys.map((key) =>
      createGossipSignalTransport({
        pubsub: new FakeGossip(gossip, key),
        topics: new FakeTopics(members, key),
        key,
      }),
    )
    const heard = { user: [] as Signal[], bystander: [] as Signal[] }
    user!.onReceive((s) => heard.user.push(s))
    bystander!.onReceive((s) => heard.bystander.push(s))
    user!.topics!.join('qwen')
    await runner!.topics!.publish('qwen', {
      dna: 'agent_registry',
      from: 'ignored',
      payload: { slots_free: 1 },
    })
    await tick()
    expect(heard.user).toEqual([
      {
        dna: 'agent_registry',
        from: encodeHashB64(keys[0]!.agentPubKey),
        payload: { slots_free: 1 },
        topic: 'qwen',
      },
    ])
    expect(heard.bystander).toEqual([])
    // A broadcast after it is not taken for a replay of the topic's (one order per route).
    await runner!.broadcast({ dna: 'agent_registry', from: 'ignored', payload: { slots_free: 0 } })
    await tick()
    expect(heard.user.at(-1)).toMatchObject({ payload: { slots_free: 0 } })
    expect(heard.user.at(-1)?.topic).toBeUndefined()
  })
})

describe("a runner's statement on its model's topic", () => {
  it('rides its news once in a while, again after held news that may have been replaced', async () => {
    const members: FakeTopics[] = []
    const keys = await Promise.all([1, 2].map(async () => openAgentKey(await tempDir())))
    let clock = 1_800_000_000_000
    const [runnerTopics, userTopics] = keys.map((key) => new FakeTopics(members, key))
    const runnerAgent = encodeHashB64(keys[0]!.agentPubKey)
    const userBook = new PeerVersions({
      self: encodeHashB64(keys[1]!.agentPubKey),
      members: () => [runnerAgent],
    })
    const [runner, user] = keys.map((key, i) =>
      createGossipSignalTransport({
        pubsub: new FakeGossip([], key),
        topics: i === 0 ? runnerTopics! : userTopics!,
        key,
        versions: i === 0 ? new PeerVersions({ self: runnerAgent }) : userBook,
        now: () => clock,
      }),
    )
    user!.topics!.join('qwen')
    const stated: boolean[] = []
    const news = async (atMs: number, outcome: 'sent' | 'held' = 'sent') => {
      clock = 1_800_000_000_000 + atMs
      runnerTopics!.outcome = outcome
      await runner!.topics!.publish('qwen', { dna: 'agent_registry', from: '', payload: { slots_free: 1 } })
      const { body } = decodeMsgpack(runnerTopics!.sent.at(-1)!) as { body: Uint8Array }
      stated.push('release' in (decodeMsgpack(body) as object))
    }
    await news(0)
    await tick()
    // A member heard on the topic only says what it reads: the user's gate on it opens.
    expect(userBook.of(runnerAgent)).toEqual(OWN_STATEMENT)
    expect(userBook.everySpeaks('record', 1)).toBe(true)
    await news(10_000)
    await news(STATED_ON_TOPIC_EVERY_MS, 'held')
    await news(STATED_ON_TOPIC_EVERY_MS + 1_000, 'held')
    await news(STATED_ON_TOPIC_EVERY_MS + 2_000)
    await news(STATED_ON_TOPIC_EVERY_MS + 3_000)
    expect(stated).toEqual([true, false, true, true, true, false])
  })
})
