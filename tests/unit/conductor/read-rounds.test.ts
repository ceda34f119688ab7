import { describe, expect, it } from 'vitest'
import {
  afterRound,
  MAX_READ_GETS,
  MAX_READ_ROUNDS,
  NO_ROUNDS,
  planRound,
  type RoundsSoFar,
} from '../../../host/conductor/embedded/read-rounds.ts'
import { missKey, type ReadMiss } from '../../../host/conductor/embedded/remote-reads.ts'

const record = (n: number): ReadMiss => ({ kind: 'record', hash: Uint8Array.of(n >> 8, n & 255) })
const links = (n: number, deleted = false): ReadMiss => ({
  kind: 'links',
  base: Uint8Array.of(n >> 8, n & 255),
  linkType: 1,
  tagPrefix: new Uint8Array(),
  deleted,
})
const asked = (rounds: number, misses: ReadMiss[]): RoundsSoFar => ({
  rounds,
  asked: new Set(misses.map(missKey)),
})

describe('planRound', () => {
  const cases: { name: string; sofar: RoundsSoFar; misses: ReadMiss[]; fetch: ReadMiss[] | null }[] = [
    { name: 'a run that missed nothing answers', sofar: NO_ROUNDS, misses: [], fetch: null },
    { name: 'a first miss is got', sofar: NO_ROUNDS, misses: [record(1)], fetch: [record(1)] },
    {
      name: 'the same read missed twice in a run is asked once',
      sofar: NO_ROUNDS,
      misses: [record(1), links(2), record(1)],
      fetch: [record(1), links(2)],
    },
    {
      name: 'a link set with deleted links is another read than the live ones',
      sofar: NO_ROUNDS,
      misses: [links(2), links(2, true)],
      fetch: [links(2), links(2, true)],
    },
    {
      name: 'what was asked and missed again (no holder had it) answers as is',
      sofar: asked(1, [record(1)]),
      misses: [record(1)],
      fetch: null,
    },
    {
      name: 'only what was not asked yet is got',
      sofar: asked(1, [links(2)]),
      misses: [links(2), record(3)],
      fetch: [record(3)],
    },
    {
      name: `after ${MAX_READ_ROUNDS} rounds the call answers with what it has`,
      sofar: asked(MAX_READ_ROUNDS, [record(1)]),
      misses: [record(2)],
      fetch: null,
    },
    {
      name: `gets stop at ${MAX_READ_GETS} a call`,
      sofar: asked(
        1,
        Array.from({ length: MAX_READ_GETS - 1 }, (_, i) => record(i + 10)),
      ),
      misses: [record(1), record(2)],
      fetch: [record(1)],
    },
  ]
  for (const c of cases)
    it(c.name, () => {
      const plan = planRound(c.sofar, c.misses)
      if (c.fetch === null) expect(plan).toEqual({ kind: 'answer' })
      else expect(plan).toEqual({ kind: 'fetch', misses: c.fetch })
    })

  it('counts rounds and what they asked', () => {
    const after = afterRound(afterRound(NO_ROUNDS, [record(1)]), [links(2), record(1)])
    expect(after.rounds).toBe(2)
    expect([...after.asked].sort()).toEqual([missKey(links(2)), missKey(record(1))].sort())
  })
})
