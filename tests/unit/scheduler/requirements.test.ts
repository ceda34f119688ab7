import { describe, expect, it } from 'vitest'
import {
  claimSnapshotOf,
  unmetRequirement,
  whyNoNodeQualifies,
} from '../../../host/scheduler/requirements.ts'
import { type ClaimSnapshot, NO_REQUIREMENTS } from '../../../zomes-bindings/index.ts'
import { capability, claimSnapshot } from '../conductor/fixtures/capability.ts'

const GiB = 1024 ** 3
const none = NO_REQUIREMENTS
const node = (overrides: Partial<ClaimSnapshot> = {}): ClaimSnapshot =>
  claimSnapshot({ ram_bytes: 16 * GiB, ...overrides })

describe('requirement matching', () => {
  it('builds the claim snapshot from a capability: summed VRAM, loaded models, queue', () => {
    const cap = capability({
      inference: {
        models: [
          {
            name: 'a',
            file_hash: '0'.repeat(64),
            size_bytes: 1,
            parameters: null,
            quantisation: null,
            context_length: null,
            architecture: null,
            loaded: true,
          },
          {
            name: 'b',
            file_hash: '1'.repeat(64),
            size_bytes: 1,
            parameters: null,
            quantisation: null,
            context_length: null,
            architecture: null,
            loaded: false,
          },
        ],
        tokens_per_second: null,
      },
    })
    cap.hardware.gpus.push({ vendor: 'NVIDIA', model: 'L4', vram_bytes: 24 * GiB })
    expect(claimSnapshotOf(cap, 2)).toEqual({
      cores: 2,
      ram_bytes: 8 * GiB,
      vram_bytes: 104 * GiB,
      gpu_count: 2,
      models: ['a', 'b'],
      loaded_models: ['a'],
      tags: ['gpu', 'gpu-large'],
      queue_depth: 2,
    })
    // GPUs the engine cannot use (it runs on the CPU: its GPU backends failed their self-test) rank nothing.
    expect(claimSnapshotOf({ ...cap, tags: [...cap.tags, 'engine:cpu'] }, 2)).toMatchObject({
      vram_bytes: 0,
      gpu_count: 2,
    })
    expect(claimSnapshotOf({ ...cap, tags: [...cap.tags, 'engine:cuda-built'] }, 2)).toMatchObject({
      vram_bytes: 104 * GiB,
    })
  })

  it('names the first requirement a node misses, in the order the rules check', () => {
    expect(unmetRequirement(none, node())).toBeNull()
    expect(unmetRequirement({ ...none, min_ram_bytes: 64 * GiB, model: 'x' }, node())).toBe(
      '16.0 GiB of RAM, the task needs 64.0 GiB',
    )
    expect(unmetRequirement({ ...none, gpu: true }, node())).toBe('no GPU, the task needs one')
    expect(unmetRequirement({ ...none, min_cores: 8 }, node())).toBe('4 cores, the task needs 8')
    expect(unmetRequirement({ ...none, model: 'qwen' }, node())).toBe('no model "qwen"')
    expect(unmetRequirement({ ...none, tags: ['cuda'] }, node({ tags: ['cpu'] }))).toBe('no tag "cuda"')
  })

  it('says which requirements the known nodes miss, and how many', () => {
    const nodes = [node({ ram_bytes: 128 * GiB }), node(), node()]
    expect(whyNoNodeQualifies({ ...none, min_ram_bytes: 64 * GiB, model: 'x' }, nodes)).toBe(
      '2 nodes have less than 64.0 GiB of RAM; no node has model "x"',
    )
    expect(
      whyNoNodeQualifies({ ...none, gpu: true, tags: ['cuda'] }, [node({ tags: ['cuda'] }), node()]),
    ).toBe('no node has a GPU; 1 node lacks tag "cuda"')
    expect(whyNoNodeQualifies({ ...none, min_cores: 2 }, nodes)).toBeNull()
    expect(whyNoNodeQualifies(none, [])).toBe('no nodes are known yet')
  })

  it('asks for some model for a kind that runs on one when the task names none', () => {
    const withModel = node({ models: ['a'] })
    const without = node({ models: [] })
    expect(unmetRequirement(none, without)).toBeNull()
    expect(unmetRequirement(none, without, true)).toBe('no model')
    expect(unmetRequirement(none, withModel, true)).toBeNull()
    expect(whyNoNodeQualifies(none, [without, without], true)).toBe('no node has any model')
    expect(whyNoNodeQualifies(none, [without, withModel], true)).toBeNull()
    // A named model is its own requirement.
    expect(whyNoNodeQualifies({ ...none, model: 'b' }, [withModel], true)).toBe('no node has model "b"')
  })
})
