import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { rendezvousKey, rendezvousRank } from '../../../host/interface/rendezvous.ts'
import { rankClaims } from '../../../host/scheduler/claim-ranking.ts'
import type { Claim, EntryRecord, Task } from '../../../zomes-bindings/index.ts'
import { task as taskEntry } from './fixtures.ts'

const TASK = 'uhCkkTaskTaskTaskTaskTaskTaskTaskTaskTaskTaskTaskTaskTask'
const task = (model: string | null = null): EntryRecord<Task> => ({
  action_hash: TASK,
  author: 'uhCAkRequester',
  timestamp: 1,
  entry: taskEntry({ requirements: { ...taskEntry().requirements, model } }),
})
const claim = (
  author: string,
  snapshot: Partial<Claim['snapshot']> = {},
  timestamp = 1,
): EntryRecord<Claim> => ({
  action_hash: `uhCkk${author}`,
  author,
  timestamp,
  entry: {
    task: TASK,
    snapshot: {
      cores: 4,
      ram_bytes: 16,
      vram_bytes: 0,
      gpu_count: 0,
      models: ['m'],
      loaded_models: [],
      tags: [],
      queue_depth: 0,
      ...snapshot,
    },
  },
})
const order = (claims: EntryRecord<Claim>[], model: string | null = null) =>
  rankClaims(task(model), claims).map((c) => c.author)

describe('claim ranking', () => {
  it('keys a claimant by the mesh rendezvous convention: sha256(task, newline, claimant)', () => {
    expect(Buffer.from(rendezvousKey('t', 'c'))).toEqual(createHash('sha256').update('t\nc').digest())
  })

  it('puts the loaded model first, then VRAM, RAM and the shorter queue', () => {
    expect(order([claim('a'), claim('b', { loaded_models: ['m'] })], 'm')).toEqual(['b', 'a'])
    // A loaded model does not count when the task needs none.
    expect(order([claim('a', { vram_bytes: 2 }), claim('b', { loaded_models: ['m'] })])).toEqual(['a', 'b'])
    expect(order([claim('a', { ram_bytes: 8 }), claim('b', { ram_bytes: 32 })])).toEqual(['b', 'a'])
    expect(order([claim('a', { queue_depth: 3 }), claim('b', { queue_depth: 1 })])).toEqual(['b', 'a'])
  })

  it('breaks ties by rendezvous hash, the same whatever order the claims arrive in', () => {
    const names = ['uhCAkA', 'uhCAkB', 'uhCAkC', 'uhCAkD', 'uhCAkE']
    const byHash = [...names].sort((x, y) => Buffer.compare(rendezvousKey(TASK, x), rendezvousKey(TASK, y)))
    expect(order(names.map((n) => claim(n)))).toEqual(byHash)
    expect(order([...names].reverse().map((n) => claim(n)))).toEqual(byHash)
  })

  it("keeps each claimant's first claim only", () => {
    expect(
      order([claim('a', {}, 1), claim('a', { vram_bytes: 99 }, 2), claim('b', { vram_bytes: 1 })]),
    ).toEqual(['b', 'a'])
  })

  it('ranks an agent among others by rendezvous hash alone, itself included or not', () => {
    const names = ['uhCAkA', 'uhCAkB', 'uhCAkC', 'uhCAkD']
    const byHash = [...names].sort((x, y) => Buffer.compare(rendezvousKey(TASK, x), rendezvousKey(TASK, y)))
    byHash.forEach((name, i) => {
      expect(rendezvousRank(TASK, name, names)).toBe(i)
      expect(
        rendezvousRank(
          TASK,
          name,
          names.filter((n) => n !== name),
        ),
      ).toBe(i)
    })
  })
})
