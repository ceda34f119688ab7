/** When a scheduler sweeps the open tasks (open-task-sweep.ts): the rule, as a table. */
import { describe, expect, it } from 'vitest'
import { type SweepReasons, sweepNeeded } from '../../../host/scheduler/open-task-sweep.ts'

const bystander: SweepReasons = { models: 0, ownOpen: false, following: 0 }

describe('sweepNeeded', () => {
  it.each<[string, Partial<SweepReasons>, boolean]>([
    ['a bystander: no model, no task of its own, nothing followed', {}, false],
    ['a runner serving a model', { models: 1 }, true],
    ['a host not yet advertised (its models not known)', { models: null }, true],
    ['a requester with a task of its own open', { ownOpen: true }, true],
    ['a host where a caller watches a task, or an attempt runs', { following: 1 }, true],
    ['a runner with its own task open too', { models: 2, ownOpen: true }, true],
  ])('%s: %s', (_, reasons, sweeps) => {
    expect(sweepNeeded({ ...bystander, ...reasons })).toBe(sweeps)
  })
})
