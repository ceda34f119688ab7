/** The rule for change on gossip: a signal carrying a field from a newer release is read, that field dropped. */
import { describe, expect, it } from 'vitest'
import { encodeHashB64, holoHashFrom32 } from '../../../host/identity/hash.ts'
import { TaskSignalSchema } from '../../../host/scheduler/task-signals.ts'
import { HeartbeatSchema } from '../../../zomes-bindings/index.ts'

const beat = { cpu_pct: 12.5, ram_pct: 40, gpu_pct: null, queue_depth: 0, timestamp: 1_763_700_000_000_000 }

describe('gossip signals from a newer release', () => {
  it('accepts a heartbeat with fields from the future, at its top and inside a list, and drops them', () => {
    const head = encodeHashB64(holoHashFrom32(new Uint8Array(32).fill(3), 'agent'))
    const future = {
      ...beat,
      every_ms: 5000,
      warp_factor: 9,
      split_held: [{ head, model: 'm', bytes: 1, colour: 'red' }],
    }
    const parsed = HeartbeatSchema.safeParse(future)
    expect(parsed.success && parsed.data).toEqual({
      ...beat,
      every_ms: 5000,
      split_held: [{ head, model: 'm', bytes: 1 }],
    })
    expect(HeartbeatSchema.parse({ ...beat, warp_factor: 9 })).toEqual(beat)
  })

  it('still checks the fields it knows', () => {
    expect(HeartbeatSchema.safeParse({ ...beat, warp_factor: 9, cpu_pct: 101 }).success).toBe(false)
    expect(HeartbeatSchema.safeParse({ ...beat, queue_depth: 'many' }).success).toBe(false)
  })

  it('accepts a task signal with a field from the future', () => {
    const hash = encodeHashB64(holoHashFrom32(new Uint8Array(32).fill(7), 'action'))
    const signal = { type: 'task', task: hash, assignment: hash, event: 'started', progress: null }
    const parsed = TaskSignalSchema.safeParse({ ...signal, eta_ms: 10 })
    expect(parsed.success && parsed.data).toEqual(signal)
  })
})
