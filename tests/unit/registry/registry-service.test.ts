import { afterEach, describe, expect, it, vi } from 'vitest'
import { ReadsTimedOutError } from '../../../host/conductor/embedded/errors.ts'
import { LoadSampler } from '../../../host/hardware/load-sampler.ts'
import type { ConductorPort, Signal } from '../../../host/interface/conductor-port.ts'
import { MemoryBudget } from '../../../host/interface/memory-budget.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { type RegistryInit, RegistryService } from '../../../host/registry/registry-service.ts'
import { HeartbeatSchema, type NodeCapability } from '../../../zomes-bindings/index.ts'
import { AGENT, CAPABILITY } from '../api/fixtures.ts'

/** A conductor that records advertise calls and broadcasts, and lets a test deliver signals. */
function recordingConductor() {
  const advertised: NodeCapability[] = []
  const broadcasts: unknown[] = []
  const handlers = new Set<(s: Signal) => void>()
  const conductor: ConductorPort = {
    backend: 'embedded',
    agentPubKey: AGENT,
    callZome: (async (_dna: string, fn: string, payload: unknown) => {
      if (fn === 'advertise_capability') {
        advertised.push(payload as NodeCapability)
        return { action_hash: 'a', entry_hash: 'e' }
      }
      if (fn === 'list_nodes')
        return advertised.length > 0
          ? [{ action_hash: 'a', author: AGENT, timestamp: 1, entry: advertised.at(-1) }]
          : []
      throw new Error(`unexpected ${fn}`)
    }) as ConductorPort['callZome'],
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
  }
  const deliver = (signal: Signal) => {
    for (const h of handlers) h(signal)
  }
  return { conductor, advertised, broadcasts, deliver, handlers }
}

const heartbeatConfig = { interval_ms: 100, stale_after_missed: 3, offline_after_ms: 2000 }
let registry: RegistryService | undefined

function startRegistry(
  conductor: ConductorPort,
  describe: () => Promise<NodeCapability>,
  resampleIntervalMs = 60_000,
  budget?: MemoryBudget,
  isMember: (agent: string) => boolean = (agent) => agent !== 'stranger',
  addresses?: RegistryInit['addresses'],
  readersLenient?: RegistryInit['readersLenient'],
) {
  registry = new RegistryService({
    conductor,
    heartbeat: heartbeatConfig,
    describe,
    resampleIntervalMs,
    loadSampler: new LoadSampler(),
    queueDepth: () => 0,
    ...(budget && { budget }),
    isMember,
    addresses,
    readersLenient,
    logger: silentLogger(),
  })
  return registry.start().then(() => registry as RegistryService)
}

afterEach(async () => {
  await registry?.stop()
})

describe('RegistryService', () => {
  it('advertises at start, sends heartbeats as signals, and lists itself online', async () => {
    const fake = recordingConductor()
    const registry = await startRegistry(fake.conductor, async () => CAPABILITY)
    expect(fake.advertised).toEqual([CAPABILITY])
    await vi.waitFor(() => expect(fake.broadcasts.length).toBeGreaterThanOrEqual(3), { timeout: 2000 })
    expect(fake.broadcasts[0]).toMatchObject({
      queue_depth: 0,
      gpu_pct: expect.toSatisfy((v) => v === null || typeof v === 'number'),
    })
    const peers = await registry.peers()
    expect(peers).toHaveLength(1)
    expect(peers[0]).toMatchObject({ agent: AGENT, self: true, status: 'online', name: CAPABILITY.name })
  })

  it('records heartbeats from other agents and ignores signals that are not heartbeats', async () => {
    const fake = recordingConductor()
    const registry = await startRegistry(fake.conductor, async () => CAPABILITY)
    const heartbeat = {
      cpu_pct: 50,
      ram_pct: 25,
      gpu_pct: null,
      queue_depth: 2,
      timestamp: Date.now() * 1000,
    }
    fake.deliver({ dna: 'agent_registry', from: 'alice', payload: heartbeat })
    fake.deliver({ dna: 'agent_registry', from: 'mallory', payload: { cpu_pct: 900 } })
    fake.deliver({ dna: 'resource_mesh', from: 'bob', payload: heartbeat })
    const peers = await registry.peers()
    expect(peers.map((p) => [p.agent, p.status])).toEqual([
      [AGENT, 'online'],
      ['alice', 'online'],
    ])
    expect(peers[1]?.load).toEqual(heartbeat)

    await registry.stop()
    expect(fake.handlers.size).toBe(0)
  })

  it('hears no heartbeat from an agent that is not a member, nor waits for it in new forms', async () => {
    const fake = recordingConductor()
    const registry = await startRegistry(fake.conductor, async () => CAPABILITY)
    const heartbeat = { cpu_pct: 1, ram_pct: 1, gpu_pct: null, queue_depth: 0, timestamp: Date.now() * 1000 }
    fake.deliver({ dna: 'agent_registry', from: 'stranger', payload: heartbeat })
    fake.deliver({ dna: 'agent_registry', from: 'alice', payload: heartbeat })
    expect((await registry.peers()).map((p) => p.agent)).toEqual([AGENT, 'alice'])
    expect(registry.awaitedOthers()).toEqual(['alice'])

    await registry.stop()
    expect(fake.handlers.size).toBe(0)
  })

  it("claims on the memory budget the split shares heads' heartbeats say it holds, and advertises what is left", async () => {
    const fake = recordingConductor()
    const budget = new MemoryBudget({ limitBytes: 1000, freeMemory: () => 10_000 })
    await startRegistry(fake.conductor, async () => CAPABILITY, 60_000, budget)
    const split = { model: 'big', peers: [{ agent: AGENT, layers: 2, bytes: 300 }] }
    const heartbeat = { cpu_pct: 1, ram_pct: 1, gpu_pct: null, queue_depth: 0, timestamp: Date.now() * 1000 }
    fake.deliver({ dna: 'agent_registry', from: 'head', payload: { ...heartbeat, splits: [split] } })
    expect(budget.holders()).toEqual([{ holder: 'split shares', bytes: 300 }])
    const before = fake.broadcasts.length
    await vi.waitFor(() => expect(fake.broadcasts.length).toBeGreaterThan(before), { timeout: 2000 })
    expect(fake.broadcasts.at(-1)).toMatchObject({
      model_free_bytes: 700,
      split_held: [{ head: 'head', model: 'big', bytes: 300 }],
    })
  })

  it('tells its addresses in its heartbeats and hands on what members tell; a refused list leaves the load heard', async () => {
    const fake = recordingConductor()
    const heard: [string, unknown][] = []
    const own = ['/ip4/93.184.216.34/tcp/4001']
    const addresses = {
      own: () => own,
      heard: (agent: string, told: unknown) => {
        heard.push([agent, told])
        return agent === 'bob' ? 'not a multiaddr' : null
      },
    }
    const registry = await startRegistry(
      fake.conductor,
      async () => CAPABILITY,
      60_000,
      undefined,
      undefined,
      addresses,
    )
    await vi.waitFor(() => expect(fake.broadcasts.length).toBeGreaterThan(0), { timeout: 2000 })
    expect(fake.broadcasts[0]).toMatchObject({ addrs: own })
    const load = { cpu_pct: 1, ram_pct: 1, gpu_pct: null, queue_depth: 0, timestamp: Date.now() * 1000 }
    const tooMany = Array.from({ length: 9 }, () => own[0])
    fake.deliver({ dna: 'agent_registry', from: 'alice', payload: { ...load, addrs: own } })
    fake.deliver({ dna: 'agent_registry', from: 'bob', payload: { ...load, addrs: ['nonsense'] } })
    fake.deliver({ dna: 'agent_registry', from: 'carol', payload: { ...load, addrs: tooMany } })
    fake.deliver({ dna: 'agent_registry', from: 'stranger', payload: { ...load, addrs: own } })
    // A 0.2.0 peer's heartbeat has none.
    fake.deliver({ dna: 'agent_registry', from: 'dave', payload: load })
    expect(heard).toEqual([
      ['alice', own],
      ['bob', ['nonsense']],
      ['carol', tooMany],
    ])
    const peers = await registry.peers()
    expect(peers.map((p) => p.agent)).toEqual([AGENT, 'alice', 'bob', 'carol', 'dave'])
    expect(peers.find((p) => p.agent === 'alice')?.load).toEqual(load)
  })

  it('re-advertises only when the capability changed', async () => {
    const fake = recordingConductor()
    let current: NodeCapability = CAPABILITY
    const registry = await startRegistry(fake.conductor, async () => current, 50)
    await new Promise((r) => setTimeout(r, 200))
    expect(fake.advertised).toHaveLength(1)
    current = { ...CAPABILITY, tags: ['gpu'] }
    await vi.waitFor(() => expect(fake.advertised).toHaveLength(2), { timeout: 2000 })
    expect(fake.advertised[1]?.tags).toEqual(['gpu'])
    expect(registry.capability.tags).toEqual(['gpu'])
  })

  it('starts when writing its capability gets no answer from the holders it reads, and writes it once they answer', async () => {
    const fake = recordingConductor()
    let writes = 0
    const conductor: ConductorPort = {
      ...fake.conductor,
      // Sharded, the write reads this peer's capability link from its holders: the first gets no answer.
      callZome: ((dna: string, fn: string, payload: unknown) => {
        if (fn === 'advertise_capability' && writes++ === 0)
          return Promise.reject(new ReadsTimedOutError(dna, 30_000))
        return (fake.conductor.callZome as (...args: unknown[]) => Promise<unknown>)(dna, fn, payload)
      }) as ConductorPort['callZome'],
    }
    const registry = await startRegistry(conductor, async () => CAPABILITY)
    // Started: its capability is known here, not on record yet, and no heartbeat names one.
    expect(registry.capability).toEqual(CAPABILITY)
    expect(fake.advertised).toEqual([])
    await vi.waitFor(() => expect(fake.broadcasts.length).toBeGreaterThan(0), { timeout: 2000 })
    expect(fake.broadcasts[0]).not.toHaveProperty('cap')
    await vi.waitFor(() => expect(fake.advertised).toEqual([CAPABILITY]), { timeout: 5000 })
    await vi.waitFor(() => expect(fake.broadcasts.at(-1)).toMatchObject({ cap: 'a' }), { timeout: 2000 })
  })

  it('tells addrs and cap only once every member reads them: a 0.1.0 member drops a heartbeat with either', async () => {
    // 0.1.0 reads a heartbeat strictly: a field it does not know drops the whole heartbeat.
    const readBy010 = HeartbeatSchema.omit({ addrs: true, cap: true }).strict()
    const fake = recordingConductor()
    const own = ['/ip4/93.184.216.34/tcp/4001']
    let lenient = false
    await startRegistry(
      fake.conductor,
      async () => CAPABILITY,
      60_000,
      undefined,
      undefined,
      { own: () => own, heard: () => null },
      () => lenient,
    )
    await vi.waitFor(() => expect(fake.broadcasts.length).toBeGreaterThan(0), { timeout: 2000 })
    expect(fake.broadcasts[0]).not.toHaveProperty('addrs')
    expect(fake.broadcasts[0]).not.toHaveProperty('cap')
    expect(readBy010.safeParse(fake.broadcasts[0]).success).toBe(true)
    lenient = true
    await vi.waitFor(() => expect(fake.broadcasts.at(-1)).toMatchObject({ addrs: own, cap: 'a' }), {
      timeout: 2000,
    })
  })
})
