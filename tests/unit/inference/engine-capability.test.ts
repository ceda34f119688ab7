/**
 * Free slots as heartbeats count them (a runner's accepted requests among them), and the engine build tag.
 * A peer's engine build travels as a capability tag: what engineTags advertises, engineBuildOf reads
 * back (the split pairs only equal builds), and a peer that advertises none has none.
 */
import { describe, expect, it } from 'vitest'
import type { BackendStatus } from '../../../host/inference/engine/engine-backends.ts'
import { engineBuildOf, engineTags, freeSlots } from '../../../host/inference/engine/engine-capability.ts'

const status = {
  backend: 'cpu',
  kind: 'cpu',
  summary: 'cpu',
  backends: [],
  engine_build: 'de3ff815ea7d/rpc7.0.0',
} as BackendStatus

describe('the engine build tag', () => {
  it('reads back the build it advertised, among other tags', () => {
    expect(engineBuildOf(['gpu', ...engineTags(status), 'e2e'])).toBe('de3ff815ea7d/rpc7.0.0')
  })

  it('finds none on a peer whose engine cannot run', () => {
    expect(engineTags(null)).toEqual([])
    expect(engineBuildOf(['gpu', 'engine:cpu'])).toBeNull()
  })
})

describe('free slots, as heartbeats report them', () => {
  const model = (name: string, slots: number, busy: number) => ({ info: { name }, slots, busy }) as never

  it('sums the loaded models, none loaded being none', () => {
    expect(freeSlots([])).toBeNull()
    expect(freeSlots([model('a', 4, 1), model('b', 2, 2)])).toBe(3)
  })

  it('counts requests a runner accepted before they reach the engine', () => {
    // Two accepted straight on a, one of them already in its engine: two slots taken, not one.
    expect(freeSlots([model('a', 4, 1), model('b', 2, 0)], (name) => (name === 'a' ? 2 : 0))).toBe(4)
  })
})
