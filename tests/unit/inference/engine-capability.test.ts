/**
 * A peer's engine build travels as a capability tag: what engineTags advertises, engineBuildOf reads
 * back (the split pairs only equal builds), and a peer that advertises none has none.
 */
import { describe, expect, it } from 'vitest'
import type { BackendStatus } from '../../../host/inference/engine/engine-backends.ts'
import { engineBuildOf, engineTags } from '../../../host/inference/engine/engine-capability.ts'

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
