/**
 * A requester's look beyond what it knows: never in a mesh whose every peer's news it hears, never
 * while a known runner has a slot free; else the directory, two runners asked for their load over
 * load/1.0.0, and a runner that does not answer out of this request.
 */
import { describe, expect, it, vi } from 'vitest'
import { answerLoad } from '../../../../host/requests/direct/load-probe.ts'
import { planRoute, type RoutePlanInput } from '../../../../host/requests/direct/route-plan.ts'
import { discoverRunners } from '../../../../host/requests/direct/runner-discovery.ts'
import type { LoadAnswer } from '../../../../host/requests/direct/runner-pick.ts'
import type { Heartbeat, NodeCapability } from '../../../../zomes-bindings/index.ts'
import { CAPABILITY } from '../../api/fixtures.ts'

const MODEL = {
  name: 'qwen',
  file_hash: 'a'.repeat(64),
  size_bytes: 1000,
  parameters: 1,
  quantisation: null,
  context_length: null,
  architecture: null,
  loaded: true,
}
const SERVING = { ...CAPABILITY, inference: { tokens_per_second: null, models: [MODEL] } } as NodeCapability
const beat = (slots: number): Heartbeat => ({
  cpu_pct: 1,
  ram_pct: 1,
  gpu_pct: null,
  queue_depth: 0,
  slots_free: slots,
  timestamp: 1,
})

/** Runners answering load asks in process; `dead` ones never answer. */
function mesh(loads: Record<string, number>, dead: string[] = []) {
  const asked: string[] = []
  const agents = {
    answer: async () => {},
    unhandle: async () => {},
    request: async (agent: string, _protocol: string, request: Uint8Array) => {
      asked.push(agent)
      if (dead.includes(agent)) throw new Error('unreachable')
      const own = (): LoadAnswer => ({ capability: SERVING, heartbeat: beat(loads[agent] ?? 0) })
      const answers: Uint8Array[] = []
      await answerLoad(
        {
          ...agents,
          answer: async (_p, h) => {
            answers.push(await h(request, 'me'))
          },
        },
        own,
      )
      return answers[0]!
    },
  }
  return { agents, asked }
}

const peer = (agent: string, slots: number): RoutePlanInput['peers'][number] => ({
  agent,
  self: false,
  status: 'online',
  capability: SERVING,
  load: beat(slots),
  last_heartbeat_ms_ago: 10,
})

const ask = (peers: RoutePlanInput['peers']) => ({
  self: 'me',
  model: 'qwen',
  peers,
  plan: planRoute({ peers, model: 'qwen', outstanding: new Map(), needBytes: 1000, now: 1000 }),
  passable: () => true,
  signal: new AbortController().signal,
})

describe('discoverRunners', () => {
  it('does not look in a mesh whose news it hears whole', async () => {
    const find = vi.fn(async () => ['far'])
    const { agents } = mesh({ far: 2 })
    const using = vi.fn()
    const peers = await discoverRunners(
      { directory: { find }, agents, hearsAll: () => true, using },
      ask([peer('busy', 0)]),
    )
    expect(peers).toBeNull()
    expect(find).not.toHaveBeenCalled()
    expect(using).toHaveBeenCalledWith('qwen')
  })

  it('does not look while a known runner has a slot free', async () => {
    const find = vi.fn(async () => ['far'])
    const { agents } = mesh({})
    expect(
      await discoverRunners({ directory: { find }, agents, hearsAll: () => false }, ask([peer('free', 1)])),
    ).toBeNull()
    expect(find).not.toHaveBeenCalled()
  })

  it('asks two found runners their load and plans them before the known busy one', async () => {
    const { agents, asked } = mesh({ a: 1, b: 3, c: 2 })
    const directory = { find: async () => ['a', 'b', 'c', 'busy'] }
    const peers = await discoverRunners({ directory, agents, hearsAll: () => false }, ask([peer('busy', 0)]))
    expect(asked).toHaveLength(2)
    expect(asked).not.toContain('busy')
    const order = planRoute({
      peers: peers!,
      model: 'qwen',
      outstanding: new Map(),
      needBytes: 1000,
      now: 1000,
    })
    expect(order.at(-1)?.agent).toBe('busy')
    expect(
      order
        .slice(0, 2)
        .map((c) => c.agent)
        .sort(),
    ).toEqual([...asked].sort())
  })

  it('looks when the only known runner with a slot free failed lately (its breaker open): it may be gone', async () => {
    const find = vi.fn(async () => ['far'])
    const { agents, asked } = mesh({ far: 2 })
    const peers = await discoverRunners(
      { directory: { find }, agents, hearsAll: () => false },
      { ...ask([peer('failed', 3)]), passable: (agent) => agent !== 'failed' },
    )
    expect(find).toHaveBeenCalledOnce()
    expect(asked).toEqual(['far'])
    expect(peers?.map((p) => p.agent).sort()).toEqual(['failed', 'far'])
  })

  it('leaves a runner that does not answer out of the request', async () => {
    const { agents } = mesh({}, ['gone'])
    const directory = { find: async () => ['gone'] }
    const known = { ...peer('gone', 0), status: 'stale' as const }
    const peers = await discoverRunners({ directory, agents, hearsAll: () => false }, ask([known]))
    expect(peers?.find((p) => p.agent === 'gone')?.status).toBe('offline')
  })

  it('goes on with what it knows when the directory fails', async () => {
    const { agents } = mesh({})
    const directory = {
      find: async (): Promise<string[]> => {
        throw new Error('no route')
      },
    }
    expect(
      await discoverRunners({ directory, agents, hearsAll: () => false }, ask([peer('busy', 0)])),
    ).toBeNull()
  })
})
