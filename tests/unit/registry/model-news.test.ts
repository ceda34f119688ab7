/**
 * Routing news by model (design 4e): a small mesh, or a backend without topics, hears every peer's news
 * mesh-wide as before; a big one hears it on the topics of the models each peer serves or uses, and the
 * mesh-wide channel keeps the idle beat. A runner advertises each model it serves in the directory and
 * withdraws it when it is gone or the peer stops.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { LoadSampler } from '../../../host/hardware/load-sampler.ts'
import type { ConductorPort, Signal, SignalTopics } from '../../../host/interface/conductor-port.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { beatDue, NEWS_TO_ALL_BELOW, newsToAll } from '../../../host/registry/heartbeat-pace.ts'
import { ModelInterest, USE_KEEP_MS } from '../../../host/registry/model-interest.ts'
import { RegistryService } from '../../../host/registry/registry-service.ts'
import type { Heartbeat, NodeCapability } from '../../../zomes-bindings/index.ts'
import { AGENT, CAPABILITY } from '../api/fixtures.ts'

const beat = (over: Partial<Heartbeat> = {}): Heartbeat => ({
  cpu_pct: 3,
  ram_pct: 40,
  gpu_pct: null,
  queue_depth: 0,
  slots_free: 4,
  timestamp: 1,
  ...over,
})

describe('newsToAll', () => {
  it.each([
    ['no topics (Holochain), any size', false, 500, true],
    ['topics, a team of 10', true, 9, true],
    ['topics, just below the bound', true, NEWS_TO_ALL_BELOW - 1, true],
    ['topics, at the bound', true, NEWS_TO_ALL_BELOW, false],
    ['topics, a thousand', true, 999, false],
  ] as const)('%s', (_, topics, others, expected) => {
    expect(newsToAll(topics, others)).toBe(expected)
  })
})

describe('beatDue without news', () => {
  const sent = { last: { heartbeat: beat({ every_ms: 6000 }), at: 10_000 } }
  it.each([
    ['a slot taken is no reason to beat early', beat({ slots_free: 3 }), 12_000, false],
    ['the pace still holds', beat({ slots_free: 3 }), 16_000, true],
  ] as const)('%s', (_, next, now, due) => {
    expect(beatDue(sent, next, now, 2000, 6000, false)).toBe(due)
  })
})

describe('ModelInterest', () => {
  it('joins the loaded models and the used ones, and leaves each when neither', () => {
    const interest = new ModelInterest()
    expect(interest.next(['a'], 0)).toEqual({ join: ['a'], leave: [] })
    interest.use('b', 1000)
    expect(interest.next(['a'], 2000)).toEqual({ join: ['b'], leave: [] })
    expect(interest.next([], 3000)).toEqual({ join: [], leave: ['a'] })
    interest.use('b', 4000)
    expect(interest.next([], 4000 + USE_KEEP_MS - 1)).toEqual({ join: [], leave: [] })
    expect(interest.next([], 4000 + USE_KEEP_MS)).toEqual({ join: [], leave: ['b'] })
    expect(interest.joined()).toEqual([])
  })
})

const MODEL = { name: 'qwen', file_hash: 'a'.repeat(64), size_bytes: 1, parameters: 1, loaded: true }
const SERVING: NodeCapability = {
  ...CAPABILITY,
  inference: { tokens_per_second: null, models: [MODEL, { ...MODEL, name: 'idle', loaded: false }] },
} as NodeCapability

/**
 * A conductor with topics that records what goes where, and lets a test deliver signals; `members`:
 * the other members on record.
 */
function topicConductor(members: readonly string[] = []) {
  const broadcasts: unknown[] = []
  const published: { topic: string; payload: unknown }[] = []
  const joined = new Set<string>()
  const handlers = new Set<(s: Signal) => void>()
  const topics: SignalTopics = {
    join: (topic) => joined.add(topic),
    leave: (topic) => joined.delete(topic),
    publish: async (_dna, topic, payload) => {
      published.push({ topic, payload })
    },
  }
  const conductor: ConductorPort = {
    backend: 'embedded',
    agentPubKey: AGENT,
    callZome: (async (_dna: string, fn: string) =>
      fn === 'list_nodes'
        ? members.map((author) => ({ action_hash: `a-${author}`, author, timestamp: 1, entry: CAPABILITY }))
        : { action_hash: 'a', entry_hash: 'e' }) as ConductorPort['callZome'],
    agentInfo: async () => {
      throw new Error('not used')
    },
    broadcastSignal: async (_dna, payload) => {
      broadcasts.push(payload)
    },
    sendSignal: async () => {
      throw new Error('not used')
    },
    onSignal: (handler) => {
      handlers.add(handler)
      return () => handlers.delete(handler)
    },
    close: async () => {},
    topics,
  }
  const deliver = (signal: Signal) => {
    for (const h of handlers) h(signal)
  }
  return { conductor, broadcasts, published, joined, deliver }
}

let registry: RegistryService | undefined
afterEach(async () => {
  await registry?.stop()
  registry = undefined
})

function start(
  conductor: ConductorPort,
  slots: () => number,
  directory?: { advertise: (m: string) => void; withdraw: (m: string) => void },
  describe = async () => SERVING,
) {
  registry = new RegistryService({
    conductor,
    heartbeat: { interval_ms: 50, stale_after_missed: 3, offline_after_ms: 60_000 },
    describe,
    resampleIntervalMs: 60_000,
    loadSampler: new LoadSampler(),
    queueDepth: () => 0,
    freeSlots: slots,
    isMember: () => true,
    directory,
    logger: silentLogger(),
  })
  return registry.start().then(() => registry as RegistryService)
}

describe('RegistryService with topics and a directory', () => {
  it('advertises every model it serves, withdraws at stop', async () => {
    const fake = topicConductor()
    const directory = { advertise: vi.fn(), withdraw: vi.fn() }
    const started = await start(fake.conductor, () => 2, directory)
    expect(directory.advertise.mock.calls.map(([m]) => m).sort()).toEqual(['idle', 'qwen'])
    await started.stop()
    registry = undefined
    expect(directory.withdraw.mock.calls.map(([m]) => m).sort()).toEqual(['idle', 'qwen'])
  })

  it('in a small mesh, news goes mesh-wide only, and the loaded model’s topic is joined', async () => {
    const fake = topicConductor()
    let slots = 2
    await start(fake.conductor, () => slots)
    const before = fake.broadcasts.length
    slots = 1
    await vi.waitFor(() => expect(fake.broadcasts.length).toBeGreaterThan(before))
    expect(fake.published).toEqual([])
    expect([...fake.joined]).toEqual(['qwen'])
  })

  it('in a big mesh, news goes on the model’s topic and mesh-wide only at the idle pace', async () => {
    const others = Array.from({ length: 200 }, (_, i) => `uhCAkpeer${i}`)
    const fake = topicConductor(others)
    let slots = 2
    const started = await start(fake.conductor, () => slots)
    // 200 others on record and heard (more than a peer holds: the record counts them): the idle pace
    // is 50 intervals (2.5 s); the first beat said the interval, so the slower pace is told once first.
    for (const from of others) fake.deliver({ dna: 'agent_registry', from, payload: beat({ timestamp: 2 }) })
    expect(started.hearsAll()).toBe(false)
    await vi.waitFor(() => expect(fake.broadcasts.some((b) => (b as Heartbeat).every_ms === 2500)).toBe(true))
    slots = 1
    await vi.waitFor(() =>
      expect(fake.published.some((p) => (p.payload as Heartbeat).slots_free === 1)).toBe(true),
    )
    expect(fake.published.every((p) => p.topic === 'qwen')).toBe(true)
    // The news did not hasten a mesh-wide beat.
    expect(fake.broadcasts.some((b) => (b as Heartbeat).slots_free === 1)).toBe(false)
    started.using('other')
    expect([...fake.joined].sort()).toEqual(['other', 'qwen'])
  })

  it('hears a heartbeat that came on a topic', async () => {
    const fake = topicConductor()
    const started = await start(fake.conductor, () => 2)
    fake.deliver({
      dna: 'agent_registry',
      from: 'uhCAkrunner',
      payload: beat({ slots_free: 3 }),
      topic: 'qwen',
    })
    const peers = await started.peers()
    expect(peers.find((p) => p.agent === 'uhCAkrunner')).toMatchObject({
      status: 'online',
      load: { slots_free: 3 },
    })
  })
})
