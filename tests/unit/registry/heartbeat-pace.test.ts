/**
 * The heartbeat's pace: the network's interval in a small mesh, slower in a big one so an idle peer
 * hears about as many heartbeats whatever the mesh's size, and at once (an interval after the last)
 * when what routing reads has changed.
 */
import { describe, expect, it } from 'vitest'
import { beatDue, HEARD_PER_INTERVAL, idlePaceMs } from '../../../host/registry/heartbeat-pace.ts'
import type { Heartbeat } from '../../../zomes-bindings/index.ts'

const INTERVAL = 2000
const beat = (over: Partial<Heartbeat> = {}): Heartbeat => ({
  cpu_pct: 3,
  ram_pct: 40,
  gpu_pct: null,
  queue_depth: 0,
  slots_free: 4,
  timestamp: 1,
  ...over,
})

describe('idlePaceMs', () => {
  it.each([
    [0, 2000],
    [1, 2000],
    [4, 2000],
    [5, 4000],
    [11, 6000],
    [100, 50_000],
  ])('with %i other peers online beats every %i ms', (others, pace) => {
    expect(idlePaceMs(INTERVAL, others)).toBe(pace)
  })

  it('keeps what an idle peer hears per interval flat as the mesh grows', () => {
    for (const peers of [5, 12, 50, 200]) {
      const others = peers - 1
      const heardPerInterval = (others * INTERVAL) / idlePaceMs(INTERVAL, others)
      expect(heardPerInterval).toBeLessThanOrEqual(HEARD_PER_INTERVAL)
      expect(heardPerInterval).toBeGreaterThan(HEARD_PER_INTERVAL / 2)
    }
  })
})

describe('beatDue', () => {
  // The last heartbeat stated the idle pace these cases run at (6 s).
  const sent = { last: { heartbeat: beat({ every_ms: 6000 }), at: 10_000 } }
  const GIB = 2 ** 30
  const freeSent = { last: { heartbeat: beat({ model_free_bytes: 4 * GIB, every_ms: 6000 }), at: 10_000 } }
  it.each([
    ['the first heartbeat', { last: null }, beat(), 10_000, true],
    ['nothing changed, within the pace', sent, beat({ cpu_pct: 90 }), 14_000, false],
    ['nothing changed, the pace is up', sent, beat(), 16_000, true],
    ['a slot was taken, an interval on', sent, beat({ slots_free: 3 }), 12_000, true],
    ['a slot was taken, within the interval', sent, beat({ slots_free: 3 }), 11_000, false],
    ['a task queued', sent, beat({ queue_depth: 1 }), 12_000, true],
    ['model memory appeared', sent, beat({ model_free_bytes: 1 }), 12_000, true],
    ['model memory freed', freeSent, beat({ model_free_bytes: 8 * GIB }), 12_000, true],
    ['model memory taken', freeSent, beat({ model_free_bytes: 3 * GIB }), 12_000, true],
    // The machine's free memory moves at every sample: a small move is no reason to beat early.
    ['free memory moved a little', freeSent, beat({ model_free_bytes: 4 * GIB - 2 ** 20 }), 12_000, false],
    [
      'free memory moved a little, the pace is up',
      freeSent,
      beat({ model_free_bytes: 4 * GIB + 1 }),
      16_000,
      true,
    ],
    [
      'a split began',
      sent,
      beat({ splits: [{ model: 'm', peers: [{ agent: 'a', layers: 1, bytes: 1 }] }] }),
      12_000,
      true,
    ],
    // The last heartbeat said the network's interval: the slower pace is told at that interval first.
    [
      'the pace slowed, the last beat said the interval',
      { last: { heartbeat: beat(), at: 10_000 } },
      beat(),
      12_000,
      true,
    ],
  ] as const)('%s', (_, state, next, now, due) => {
    expect(beatDue(state, next, now, INTERVAL, 6000)).toBe(due)
  })

  // Mesh-wide in a big mesh, routing news does not hasten the beat (news false); new addresses do.
  const A = '/ip4/93.184.216.34/tcp/4001'
  const B = '/ip4/93.184.216.34/tcp/4001/p2p/QmRelay/p2p-circuit'
  const told = { last: { heartbeat: beat({ every_ms: 6000, addrs: [A] }), at: 10_000 } }
  it.each([
    ['a relayed address added, an interval on', told, beat({ addrs: [A, B] }), 12_000, true],
    ['a relayed address added, within the interval', told, beat({ addrs: [A, B] }), 11_000, false],
    ['the addresses gone', told, beat(), 12_000, true],
    ['the same addresses', told, beat({ addrs: [A] }), 12_000, false],
    [
      'the same addresses in another order',
      { last: { heartbeat: beat({ every_ms: 6000, addrs: [A, B] }), at: 10_000 } },
      beat({ addrs: [B, A] }),
      12_000,
      false,
    ],
    ['first addresses from a peer that had none', sent, beat({ addrs: [A] }), 12_000, true],
  ] as const)('%s (routing news not told mesh-wide)', (_, state, next, now, due) => {
    expect(beatDue(state, next, now, INTERVAL, 6000, false)).toBe(due)
  })
})
