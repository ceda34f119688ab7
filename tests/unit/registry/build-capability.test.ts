import { describe, expect, it } from 'vitest'
import type { ListedModel } from '../../../host/inference/model-manager.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { buildCapability } from '../../../host/registry/index.ts'
import { CAPABILITY } from '../api/fixtures.ts'

const model = (name: string, loaded: boolean): ListedModel => ({
  name,
  path: `/models/${name}.gguf`,
  size_bytes: 519_584,
  sha256: 'ab'.repeat(32),
  architecture: 'llama',
  parameters: 127_552,
  quantisation: 'F32',
  context_length: 4096,
  kv_bytes_per_token: 1024,
  blocks: 2,
  loaded,
  idle_since: null,
  unloads_at: null,
})

describe('buildCapability', () => {
  it('advertises each model with whether it is loaded', () => {
    const capability = buildCapability(
      {
        name: 'peer',
        tags: [],
        hardware: CAPABILITY.hardware,
        models: [model('tiny', true), model('other', false)],
        hostVersion: '0.1.0',
      },
      silentLogger(),
    )
    expect(capability.inference.models.map((m) => [m.name, m.loaded, m.file_hash])).toEqual([
      ['tiny', true, 'ab'.repeat(32)],
      ['other', false, 'ab'.repeat(32)],
    ])
  })

  it('advertises the memory shards it holds and the room it gives them (none without the shared memory)', () => {
    const facts = { name: 'peer', tags: [], hardware: CAPABILITY.hardware, models: [], hostVersion: '0.1.0' }
    expect(buildCapability(facts, silentLogger()).memory.shards_held).toBe(0)
    expect(buildCapability({ ...facts, shardsHeld: 6 }, silentLogger()).memory.shards_held).toBe(6)
    expect(buildCapability(facts, silentLogger()).memory.capacity_bytes).toBe(0)
    expect(
      buildCapability({ ...facts, memoryCapacityBytes: 2 ** 30 }, silentLogger()).memory.capacity_bytes,
    ).toBe(2 ** 30)
    expect(() => buildCapability({ ...facts, memoryCapacityBytes: Number.NaN }, silentLogger())).toThrow(
      /memory.capacity_bytes/,
    )
  })
})
