import { describe, expect, it } from 'vitest'
import type { ApiPeer, LiveEvent, PeersReply } from '../../../host/api/contract/index.ts'
import { LiveFeed } from '../../../host/api/dashboard/live-feed.ts'
import { LoadHistory } from '../../../host/api/dashboard/load-history.ts'
import { silentLogger } from '../../../host/log/logger.ts'

const peer = (agent: string, timestamp: number | null, cpu = 10): ApiPeer => ({
  agent,
  self: false,
  status: 'online',
  name: agent,
  capability: null,
  load: timestamp === null ? null : { cpu_pct: cpu, ram_pct: 20, gpu_pct: null, queue_depth: 0, timestamp },
  last_heartbeat_ms_ago: 0,
  warrant: null,
})

describe('LoadHistory', () => {
  const MIN = 60_000
  const cases: { name: string; steps: [ApiPeer[], number][]; want: Record<string, number[]> }[] = [
    { name: 'no heartbeat yet: nothing', steps: [[[peer('a', null)], 0]], want: {} },
    {
      name: 'one sample per heartbeat, not per look',
      steps: [
        [[peer('a', 1_000_000)], 1000],
        [[peer('a', 1_000_000)], 1500],
        [[peer('a', 2_000_000, 30)], 2000],
      ],
      want: { a: [10, 30] },
    },
    {
      name: 'samples older than the window are dropped, and a peer with none left',
      steps: [
        [[peer('a', 0), peer('b', 0)], 0],
        [[peer('a', 11 * MIN * 1000, 50)], 11 * MIN],
      ],
      want: { a: [50] },
    },
  ]
  for (const c of cases) {
    it(c.name, () => {
      const history = new LoadHistory(10 * MIN)
      for (const [peers, now] of c.steps) history.record(peers, now)
      const cpu = Object.fromEntries(
        Object.entries(history.snapshot()).map(([agent, s]) => [agent, s.map((x) => x.cpu_pct)]),
      )
      expect(cpu).toEqual(c.want)
    })
  }
})

describe('LiveFeed', () => {
  it('sends the whole picture on subscribe, models on change, tasks only when they change', async () => {
    let modelsChanged: () => void = () => {}
    let tasks = [{ action_hash: 't1', status: 'submitted' }]
    const peers: PeersReply = { peers: [peer('a', 1)], warrants: [] }
    const feed = new LiveFeed({
      peers: async () => peers,
      tasks: async () => tasks as never,
      models: async () => ({ models: [], unusable: [] }),
      onModelsChange: (listener) => {
        modelsChanged = listener
        return () => {
          modelsChanged = () => {}
        }
      },
      tickMs: 20,
      logger: silentLogger(),
    })
    const events: LiveEvent[] = []
    const unsubscribe = feed.subscribe((e) => events.push(e))
    await expect.poll(() => events.map((e) => e.event).slice(0, 3)).toEqual(['peers', 'tasks', 'models'])
    modelsChanged()
    await expect.poll(() => events.filter((e) => e.event === 'models').length).toBe(2)
    // Ticks: peers every time, tasks once per change (the first tick sends what it sees, then nothing).
    await expect.poll(() => events.filter((e) => e.event === 'peers').length).toBeGreaterThan(3)
    const tasksSent = events.filter((e) => e.event === 'tasks').length
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(events.filter((e) => e.event === 'tasks').length).toBe(tasksSent)
    tasks = [{ action_hash: 't1', status: 'done' }]
    await expect.poll(() => events.filter((e) => e.event === 'tasks').length).toBe(tasksSent + 1)
    unsubscribe()
    const after = events.length
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(events.length).toBe(after)
    feed.close()
  })
})
