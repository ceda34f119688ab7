/** When a scheduler sweeps the open tasks, and when its listing reads them (open-task-sweep.ts): as tables. */
import { describe, expect, it } from 'vitest'
import { listReadsOpen, type SweepReasons, sweepNeeded } from '../../../host/scheduler/open-task-sweep.ts'

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

describe('listReadsOpen', () => {
  const events = () => () => undefined
  it.each<[string, Parameters<typeof listReadsOpen>[0], boolean]>([
    [
      'a sharded bystander (does not sweep)',
      { onRecordsStored: events, polling: () => true, reasons: () => bystander },
      true,
    ],
    [
      'a sharded runner (its sweep keeps them)',
      { onRecordsStored: events, polling: () => true, reasons: () => ({ ...bystander, models: 1 }) },
      false,
    ],
    [
      'an unsharded bystander (its events name every task)',
      { onRecordsStored: events, polling: () => false, reasons: () => bystander },
      false,
    ],
    ['a backend asking no polling', { onRecordsStored: events, reasons: () => bystander }, false],
    ['a backend without events (always sweeps)', { polling: () => true, reasons: () => bystander }, false],
  ])('%s', (_, init, reads) => {
    expect(listReadsOpen(init)).toBe(reads)
  })
})
