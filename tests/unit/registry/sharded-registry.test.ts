/**
 * The registry on a sharded mesh (issue 56/57): a capability is then a neighbourhood record, and
 * list_nodes reads every far member's from its holders (an AgentToCapability link, the record, what
 * updates it: O(N) reads every 30 s, and an incomplete list past a few hundred members). The registry
 * counts and lists members from the membership it holds and reads a member's capability when it hears
 * the member and the heartbeat names another version (or, from a 0.2.0 peer naming none, the copy is a
 * minute old). A team's mesh (not sharded) reads list_nodes as before.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { LoadSampler } from '../../../host/hardware/load-sampler.ts'
import type { ConductorPort, Signal } from '../../../host/interface/conductor-port.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { STALE_MS } from '../../../host/registry/far-capabilities.ts'
import { beatDue } from '../../../host/registry/heartbeat-pace.ts'
import { memberCount } from '../../../host/registry/member-count.ts'
import { RegistryService } from '../../../host/registry/registry-service.ts'
import {
  dhtLocation,
  type EntryRecord,
  type Heartbeat,
  HOLO_HASH_PREFIXES,
  type NodeCapability,
} from '../../../zomes-bindings/index.ts'
import { AGENT, CAPABILITY } from '../api/fixtures.ts'

const hashOf = (kind: 'action' | 'agent', n: number) => {
  const core = new Uint8Array(32).fill(n % 256)
  core[0] = Math.floor(n / 256)
  return `u${Buffer.concat([HOLO_HASH_PREFIXES[kind], core, dhtLocation(core)]).toString('base64url')}`
}
/** What list_nodes answers at most: its link list and a call's gets stop short on a big mesh. */
const LISTED_MAX = 100

/**
 * A conductor for a mesh of `size` members (self first) where reading a far member's capability is
 * one read from holders and list_nodes reads every member's (counted as the embedded hdk counts them).
 */
function meshConductor(size: number) {
  const members = [AGENT, ...Array.from({ length: size - 1 }, (_, i) => hashOf('agent', i + 1))]
  const versions = new Map<string, { hash: string; name: string }>(
    members.map((agent, i) => [agent, { hash: hashOf('action', i + 1), name: `peer-${i}` }]),
  )
  const record = (agent: string): EntryRecord<NodeCapability> => {
    const { hash, name } = versions.get(agent)!
    return { action_hash: hash, author: agent, timestamp: 1, entry: { ...CAPABILITY, name } }
  }
  const calls = { list_nodes: 0, get_capability: [] as string[], reads: 0, beats: [] as Heartbeat[] }
  const handlers = new Set<(s: Signal) => void>()
  const conductor: ConductorPort = {
    backend: 'embedded',
    agentPubKey: AGENT,
    callZome: (async (_dna: string, fn: string, payload: unknown) => {
      if (fn === 'advertise_capability') return { action_hash: versions.get(AGENT)!.hash, entry_hash: 'e' }
      if (fn === 'list_nodes') {
        calls.list_nodes++
        calls.reads += members.length
        return members.slice(0, LISTED_MAX).map(record)
      }
      if (fn === 'get_capability') {
        calls.get_capability.push(payload as string)
        calls.reads++
        return record(payload as string)
      }
      throw new Error(`unexpected ${fn}`)
    }) as ConductorPort['callZome'],
    agentInfo: async () => {
      throw new Error('not used')
    },
    broadcastSignal: async (_dna, payload) => {
      calls.beats.push(payload as Heartbeat)
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
  const hear = (from: string, extra: Partial<Heartbeat> = {}) => {
    const payload = { cpu_pct: 1, ram_pct: 1, gpu_pct: null, queue_depth: 0, timestamp: Date.now() * 1000 }
    for (const h of handlers) h({ dna: 'agent_registry', from, payload: { ...payload, ...extra } })
  }
  /** A member writes a new version of its capability (its heartbeats name it from now on). */
  const update = (agent: string, name: string, hash: string) => versions.set(agent, { hash, name })
  return { conductor, members, calls, hear, update, capOf: (agent: string) => versions.get(agent)!.hash }
}

let registry: RegistryService | undefined
afterEach(async () => {
  await registry?.stop()
  vi.useRealTimers()
})

/** `sharded`: the verdict, or how it is reached (the daemon's asks the mesh's versions). */
function startOn(mesh: ReturnType<typeof meshConductor>, sharded: boolean | (() => boolean)) {
  const now = typeof sharded === 'function' ? sharded : () => sharded
  registry = new RegistryService({
    conductor: mesh.conductor,
    heartbeat: { interval_ms: 10_000, stale_after_missed: 3, offline_after_ms: 60_000 },
    describe: async () => CAPABILITY,
    resampleIntervalMs: 3_600_000,
    loadSampler: {
      sample: async () => ({ cpu_pct: 1, ram_pct: 1, gpu_pct: null }),
    } as unknown as LoadSampler,
    queueDepth: () => 0,
    onRecordsStored: () => () => {},
    isMember: (agent) => mesh.members.includes(agent),
    sharding: { now, members: () => mesh.members },
    logger: silentLogger(),
  })
  return registry.start().then(() => registry as RegistryService)
}

/** Reads from holders over 5 minutes idle, with a member's heartbeat heard every 10 s. */
async function idleReads(size: number, sharded: boolean) {
  vi.useFakeTimers()
  const mesh = meshConductor(size)
  await startOn(mesh, sharded)
  for (let s = 0; s < 30; s++) {
    mesh.hear(mesh.members[1 + (s % 8)]!, { cap: mesh.capOf(mesh.members[1 + (s % 8)]!) })
    await vi.advanceTimersByTimeAsync(10_000)
  }
  await registry?.stop()
  return mesh.calls
}

describe('a sharded peer reads capabilities by what it hears, not every member', () => {
  it('reads the same however many members the mesh has, and lists none of them whole', async () => {
    const small = await idleReads(20, true)
    const big = await idleReads(200, true)
    expect(small.list_nodes).toBe(0)
    expect(big.list_nodes).toBe(0)
    // One read per member heard (8), once: a heartbeat naming the version kept reads nothing.
    expect(small.reads).toBe(8)
    expect(big.reads).toBe(8)
  })

  it('a team mesh (not sharded) reads every capability at start and every 30 s, as before', async () => {
    const team = await idleReads(20, false)
    expect(team.list_nodes).toBe(11)
    expect(team.get_capability).toEqual([])
  })

  it("answers awaitedOthers when whether records are sharded asks the mesh's versions, which ask it", async () => {
    // As the daemon wires them: recordsSharded asks versions.everySpeaks, whose members are awaitedOthers.
    const mesh = meshConductor(20)
    let asked = 0
    await startOn(mesh, () => {
      asked++
      return registry!.awaitedOthers().length > 0
    })
    expect(registry!.awaitedOthers()).toHaveLength(19)
    expect(asked).toBeGreaterThan(0)
  })

  it('counts and lists the members on record, capabilities read or not', async () => {
    const mesh = meshConductor(200)
    const peers = await (await startOn(mesh, true)).peers()
    expect(peers).toHaveLength(200)
    expect(memberCount(peers)).toBe(200)
    // Past what list_nodes gets, the record's members are still counted: none is read.
    expect(mesh.calls.reads).toBe(0)
    expect(peers[1]).toMatchObject({ capability: null, name: null, member: true })
    // The heartbeat's pace counts them too (199 others: a beat every 50 intervals), and names its version.
    expect(mesh.calls.beats[0]).toMatchObject({ every_ms: 500_000, cap: mesh.capOf(AGENT) })
  })

  it("sees a far member's new capability once its heartbeat names the new version", async () => {
    const mesh = meshConductor(200)
    await startOn(mesh, true)
    const far = mesh.members[150]!
    const nameOf = async () => (await registry!.peers()).find((p) => p.agent === far)?.name
    mesh.hear(far, { cap: mesh.capOf(far) })
    await vi.waitFor(async () => expect(await nameOf()).toBe('peer-150'))
    mesh.update(far, 'renamed', hashOf('action', 999))
    mesh.hear(far, { cap: hashOf('action', 151) })
    await Promise.resolve()
    expect(mesh.calls.get_capability).toEqual([far])
    mesh.hear(far, { cap: hashOf('action', 999) })
    await vi.waitFor(async () => expect(await nameOf()).toBe('renamed'))
    expect(mesh.calls.get_capability).toEqual([far, far])
  })

  it("hears a 0.2.0 member's heartbeat (no version named): read once, again only when a minute old", async () => {
    vi.useFakeTimers()
    const mesh = meshConductor(50)
    await startOn(mesh, true)
    const old = mesh.members[7]!
    mesh.hear(old)
    await vi.advanceTimersByTimeAsync(0)
    mesh.hear(old)
    await vi.advanceTimersByTimeAsync(STALE_MS - 1000)
    // A malformed version is read as none named: the load is still heard.
    mesh.hear(old, { cap: 'nonsense' })
    expect(mesh.calls.get_capability).toEqual([old])
    await vi.advanceTimersByTimeAsync(1000)
    mesh.hear(old)
    await vi.advanceTimersByTimeAsync(0)
    expect(mesh.calls.get_capability).toEqual([old, old])
    const entry = (await registry!.peers()).find((p) => p.agent === old)
    expect(entry).toMatchObject({ status: 'online', name: 'peer-7' })
  })
})

describe('beatDue', () => {
  it('tells a new capability an interval on, at any pace', () => {
    const last = {
      cpu_pct: 1,
      ram_pct: 1,
      gpu_pct: null,
      queue_depth: 0,
      timestamp: 1,
      every_ms: 600_000,
      cap: hashOf('action', 1),
    }
    const state = { last: { heartbeat: last, at: 0 } }
    expect(beatDue(state, { ...last, cap: hashOf('action', 2) }, 10_000, 10_000, 600_000, false)).toBe(true)
    expect(beatDue(state, { ...last, cap: hashOf('action', 2) }, 5_000, 10_000, 600_000, false)).toBe(false)
    expect(beatDue(state, last, 10_000, 10_000, 600_000, false)).toBe(false)
  })
})
