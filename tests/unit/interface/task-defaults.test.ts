/**
 * TASK_DEFAULTS: what a task gets where its submitter says nothing must be a task the zome accepts,
 * and leave a lease's worth of time for every attempt before the deadline.
 */
import { describe, expect, it } from 'vitest'
import { TASK_DEFAULTS } from '../../../host/interface/task-defaults.ts'
import { TaskSchema } from '../../../zomes-bindings/index.ts'

describe('TASK_DEFAULTS', () => {
  it("are values the Task entry's schema accepts", () => {
    expect(TaskSchema.shape.lease_ms.safeParse(TASK_DEFAULTS.leaseMs).success).toBe(true)
    expect(TaskSchema.shape.max_attempts.safeParse(TASK_DEFAULTS.maxAttempts).success).toBe(true)
    expect(TaskSchema.shape.fan_out.safeParse(TASK_DEFAULTS.fanOut).success).toBe(true)
  })

  it('give every attempt a whole lease before the deadline', () => {
    expect(TASK_DEFAULTS.leaseMs * TASK_DEFAULTS.maxAttempts).toBeLessThanOrEqual(TASK_DEFAULTS.timeoutMs)
  })
})
