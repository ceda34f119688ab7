/**
 * The mesh-peers report over the sizes run: a size that failed is a row saying why and
 * `n<N>_failed: 1`, and the sizes measured before and after it keep their rows and figures.
 */
import { describe, expect, it } from 'vitest'
import { meshPeersReport, type PeerCost, whyFailed } from '../../../bench/mesh-peers/peers-report.ts'

/** A peer's cost in a window, every rate `x`. */
function peerCost(role: PeerCost['role'], x: number): PeerCost {
  return {
    role,
    connections: x,
    openedPerS: x / 10,
    cpuMsPerS: x,
    msgsPerS: x,
    bytesPerS: x,
    rssMb: x,
    opsStoredPerS: x,
    storeKbPerMin: x,
    pushesPerS: 0,
    unknownReleases: 0,
    stored: new Map([['resource_mesh Task', x]]),
    protocols: new Map([['/ripple/00ff/sync/1.0.0', x]]),
    reads: new Map([['resource_mesh/get_task_state/record', x]]),
    gossip: new Map([
      ['model:subscription', x],
      ['signals:ihave', 2 * x],
      ['any:idontwant', x / 2],
      ['ops:graft', x / 4],
      ['model:prune', x / 8],
    ]),
  }
}

const measured = (size: number, x: number) => {
  const costs = [peerCost('runner', x), peerCost('requester', x), peerCost('bystander', x)]
  return { size, idle: costs, load: costs, served: 60 }
}

describe('meshPeersReport', () => {
  it('keeps the idle window of a size whose load could not start, and says why the load failed', () => {
    const why = '503 no peer could run model "tiny" now'
    const costs = measured(32, 4).idle
    const { rows, figures } = meshPeersReport([{ size: 32, idle: costs, loadFailed: why }], 60)
    expect(rows.map((r) => r.phase)).toEqual(['idle', 'idle', 'idle', 'load failed'])
    expect(rows.at(-1)).toEqual({ N: 32, phase: 'load failed', failed: why })
    expect(figures.n32_load_failed).toBe(1)
    expect(figures.n32_failed).toBeUndefined()
    expect(figures.n32_idle_bystander_msgs_per_s).toBe(4)
    expect(Object.keys(figures).filter((k) => k.startsWith('n32_load_'))).toEqual(['n32_load_failed'])
  })

  it('keeps the sizes measured around one that failed, and says which failed and why', () => {
    const why = 'p29 did not start: ripple up exited with 1 before ready'
    const { rows, figures } = meshPeersReport(
      [measured(8, 2), measured(16, 3), { size: 32, failed: why }, measured(64, 5)],
      60,
    )
    expect(rows.map((r) => [r.N, r.phase])).toEqual([
      ...[8, 16].flatMap((n) => [...Array(3).fill([n, 'idle']), ...Array(3).fill([n, 'load'])]),
      [32, 'failed'],
      ...Array(3).fill([64, 'idle']),
      ...Array(3).fill([64, 'load']),
    ])
    expect(rows.find((r) => r.phase === 'failed')).toEqual({ N: 32, phase: 'failed', failed: why })
    expect(figures.n32_failed).toBe(1)
    expect(Object.keys(figures).filter((k) => k.startsWith('n32_'))).toEqual(['n32_failed'])
    for (const [n, x] of [
      [8, 2],
      [16, 3],
      [64, 5],
    ] as const) {
      expect(figures[`n${n}_failed`]).toBeUndefined()
      expect(figures[`n${n}_idle_bystander_cpu_ms_per_s`]).toBe(x)
      expect(figures[`n${n}_idle_bystander_connections_opened_per_s`]).toBe(x / 10)
      expect(figures[`n${n}_load_requests_per_s`]).toBe(1)
      expect(figures[`n${n}_idle_bystander_stored_per_min resource_mesh Task`]).toBe(x)
      expect(figures[`n${n}_idle_bystander_msgs_per_s_mean sync/1.0.0`]).toBe(x)
      expect(figures[`n${n}_idle_bystander_gossip_model_subscription_per_s`]).toBe(x)
      expect(figures[`n${n}_load_bystander_gossip_any_idontwant_per_s`]).toBe(x / 2)
    }
  })

  it("splits a bystander's messages into the record's protocols and the rest", () => {
    const bystander: PeerCost = {
      ...peerCost('bystander', 1),
      msgsPerS: 16,
      protocols: new Map([
        ['/meshsub/1.1.0', 9],
        ['/ripple/00ff/held/1.0.0', 3],
        ['/ripple/00ff/record-push/1.0.0', 2],
        ['/ripple/00ff/peers/1.0.0', 1],
        ['/ipfs/ping/1.0.0', 1],
      ]),
    }
    const { figures } = meshPeersReport([{ size: 16, idle: [bystander], load: [bystander], served: 0 }], 60)
    expect(figures['n16_idle_bystander_msgs_per_s record']).toBe(5)
    expect(figures['n16_idle_bystander_msgs_per_s mesh']).toBe(11)
  })

  it("shows each role's top 4 gossip parts sent a second, the mean over its peers, largest first", () => {
    const quiet = peerCost('bystander', 4)
    quiet.gossip.delete('model:prune')
    const costs = [peerCost('runner', 8), peerCost('bystander', 2), quiet, peerCost('bystander', 6)]
    const { rows, figures } = meshPeersReport([{ size: 4, idle: costs, load: costs, served: 0 }], 60)
    const column = (role: string) =>
      rows.find((r) => r.phase === 'idle' && r.role === role)?.['gossip sent by part (top 4, /s)']
    expect(column('runner')).toBe('signals:ihave 16, model:subscription 8, any:idontwant 4, ops:graft 2')
    expect(column('bystander x3')).toBe('signals:ihave 8, model:subscription 4, any:idontwant 2, ops:graft 1')
    // The figures are the bystanders' medians, a part one of them did not send counting 0.
    expect(figures.n4_idle_bystander_gossip_signals_ihave_per_s).toBe(8)
    expect(figures.n4_idle_bystander_gossip_model_prune_per_s).toBe(0.25)
  })

  it('reports every size failed as such, with nothing measured', () => {
    const { rows, figures } = meshPeersReport(
      [
        { size: 4, failed: 'p0 did not start' },
        { size: 8, failed: 'every peer counts every member: not within 300000 ms' },
      ],
      45,
    )
    expect(rows).toEqual([
      { N: 4, phase: 'failed', failed: 'p0 did not start' },
      { N: 8, phase: 'failed', failed: 'every peer counts every member: not within 300000 ms' },
    ])
    expect(figures).toEqual({ n4_failed: 1, n8_failed: 1 })
  })
})

describe('whyFailed', () => {
  it.each([
    [
      'the first line of a long message',
      new Error('ripple up exited with 1 before ready\nstdout:\n...\nstderr:\nReadsTimedOutError'),
      'ripple up exited with 1 before ready',
    ],
    ['that an empty message said nothing', new Error(''), 'failed without a message'],
    ['a string thrown', 'a string thrown', 'a string thrown'],
  ])('says %s', (_, err, line) => {
    expect(whyFailed(err)).toBe(line)
  })
})
