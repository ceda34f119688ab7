/**
 * The fastest healthy runner, through the route plan: of two runners of one model 10x apart in speed,
 * each with free slots, new conversations go to the fast one (>= 90 of 100) once this peer has seen
 * each answer; to the slow one while the fast one is busy; and past a fast one that failed until its
 * cool-down is over, when one probe goes to it and its success brings the traffic back. Time is
 * simulated (the clock is set, nothing waits): what is asserted is where requests go, not how fast.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FIRST_COOL_DOWN_MS } from '../../../../host/requests/direct/circuit-breaker.ts'
import {
  planRoute,
  type RoutePlanInput,
  type SentRequest,
} from '../../../../host/requests/direct/route-plan.ts'
import { RunnerHealth } from '../../../../host/requests/direct/runner-health.ts'
import type { CarriedLeaf } from '../../../../host/requests/direct/served-records.ts'
import type { Heartbeat, NodeCapability } from '../../../../zomes-bindings/index.ts'

type Peer = RoutePlanInput['peers'][number]
const ME = 'asker'
const MODEL = 'qwen'
/** Milliseconds to the first token and tokens a second of each runner: 10x apart. */
const PACE = { fast: { ttft: 150, rate: 60 }, slow: { ttft: 1500, rate: 6 } } as const
type Runner = keyof typeof PACE

const runner = (agent: Runner, slots: number): Peer => ({
  agent,
  self: false,
  status: 'online',
  capability: {
    inference: { models: [{ name: MODEL, loaded: true, size_bytes: 1000 }] },
  } as unknown as NodeCapability,
  load: { cpu_pct: 10, slots_free: slots, timestamp: 0 } as Heartbeat,
  last_heartbeat_ms_ago: 1000,
})

let clock = 1_000_000
const tick = (ms: number) => {
  clock += ms
  vi.setSystemTime(clock)
}

/** Where the route plan, ranked by what this peer measured, sends a new conversation now. */
function route(
  health: RunnerHealth,
  peers: Peer[],
  outstanding: Map<string, SentRequest[]> = new Map(),
): string {
  const plan = planRoute({ peers, model: MODEL, outstanding, now: clock, needBytes: null, home: null })
  const ranked = health.rank(plan, MODEL, null, () => null, clock)
  return ranked[0]!.agent
}

/** `agent` answers one request (its first token, then 32 tokens at its pace, then its signed leaf). */
async function answer(health: RunnerHealth, agent: Runner, n: number): Promise<void> {
  const request = n.toString(16).padStart(64, '0')
  const watch = health.watch({ agent, model: MODEL, request, requester: ME, queued: false })
  const startedAt = clock
  tick(PACE[agent].ttft)
  watch.relay({ type: 'token', text: 'a' })
  tick((32 * 1000) / PACE[agent].rate)
  const leaf = {
    request,
    requester: ME,
    model: MODEL,
    status: 'ok',
    tokens_out: 32,
    started_at: startedAt * 1000,
    finished_at: clock * 1000,
  }
  const signed = Promise.resolve({ proof: { leaf } } as unknown as CarriedLeaf)
  watch.answered(signed)
  await signed
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(clock)
})
afterEach(() => vi.useRealTimers())

describe('the fastest healthy runner', () => {
  it('sends >= 90 of 100 new conversations to the runner 10x faster while it has a slot free', async () => {
    const health = new RunnerHealth()
    // The slow one has more slots free: the plan alone would send every conversation there.
    const peers = [runner('slow', 8), runner('fast', 4)]
    const counts = { fast: 0, slow: 0 }
    for (let n = 0; n < 100; n++) {
      const agent = route(health, peers) as Runner
      counts[agent] += 1
      await answer(health, agent, n)
    }
    expect(counts.fast).toBeGreaterThanOrEqual(90)
    // Unmeasured, the slow one (first in the plan's order) was tried once, then no more.
    expect(counts.slow).toBe(1)
  })

  it('sends a new conversation to the slow runner while the fast one is busy', async () => {
    const health = new RunnerHealth()
    await answer(health, 'fast', 1)
    await answer(health, 'slow', 2)
    const peers = [runner('slow', 4), runner('fast', 2)]
    expect(route(health, peers)).toBe('fast')
    // Two of this peer's requests running on the fast one since its heartbeat: its two slots taken.
    const running = new Map([['fast', [0, 1].map(() => ({ at: clock, ended: null }))]])
    expect(route(health, peers, running)).toBe('slow')
  })

  it('passes over a fast runner that failed until its cool-down is over, then probes it', async () => {
    const health = new RunnerHealth()
    await answer(health, 'fast', 1)
    await answer(health, 'slow', 2)
    const peers = [runner('slow', 4), runner('fast', 4)]
    const failing = health.watch({ agent: 'fast', model: MODEL, request: 'x', requester: ME, queued: false })
    failing.refused({ why: 'unavailable/unreachable', message: 'it did not accept in time' })
    expect(route(health, peers)).toBe('slow')
    tick(FIRST_COOL_DOWN_MS - 1)
    expect(route(health, peers)).toBe('slow')
    tick(1)
    expect(route(health, peers)).toBe('fast')
    const probe = health.watch({ agent: 'fast', model: MODEL, request: 'y', requester: ME, queued: false })
    // While the probe runs, others are not sent after it.
    expect(route(health, peers)).toBe('slow')
    probe.relay({ type: 'token', text: 'a' })
    probe.answered(Promise.resolve(null))
    expect(route(health, peers)).toBe('fast')
  })

  it('does not count a busy refusal or a caller’s mistake as a failure', () => {
    const health = new RunnerHealth()
    const peers = [runner('slow', 4), runner('fast', 4)]
    const watch = (r: string) =>
      health.watch({ agent: 'fast', model: MODEL, request: r, requester: ME, queued: false })
    watch('a').refused({ why: 'busy', message: 'every slot is busy' })
    watch('b').refused({ why: 'invalid', message: 'bad', code: 'context_length_exceeded' })
    expect(health.breakers.passable('fast', clock)).toBe(true)
    watch('c').refused({ why: 'failed', message: 'the engine crashed' })
    expect(health.breakers.passable('fast', clock)).toBe(false)
    expect(route(health, peers)).toBe('slow')
  })
})
