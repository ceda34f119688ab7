import { describe, expect, it } from 'vitest'
import { modelMemoryBytes } from '../../../host/inference/memory-fit.ts'
import { type ListedModel, ModelRequiredError } from '../../../host/inference/model-manager.ts'
import { meantModel, modelMeant, placeModel } from '../../../host/workers/model-placement.ts'

const MiB = 1024 ** 2

function model(name: string, loaded: boolean, sizeMiB = 100): ListedModel {
  return {
    name,
    path: `/models/${name}.gguf`,
    size_bytes: sizeMiB * MiB,
    sha256: 'ab'.repeat(32),
    architecture: 'llama',
    parameters: 1_000_000,
    quantisation: 'F16',
    context_length: 8192,
    // 64 KiB per token: 4096 tokens of context take 256 MiB.
    kv_bytes_per_token: 64 * 1024,
    blocks: 2,
    loaded,
    idle_since: null,
    unloads_at: null,
  }
}

const manager = (models: ListedModel[]) => ({
  contextSize: 4096,
  list: async () => ({ models, unusable: [] }),
})

describe('modelMemoryBytes', () => {
  it('adds the KV cache of the context used (capped by the training context) and compute buffers', () => {
    // 100 MiB of weights, 4096 x 64 KiB of cache, and the 64 MiB floor of buffers.
    expect(modelMemoryBytes(model('a', false), 4096)).toBe((100 + 256 + 64) * MiB)
    expect(modelMemoryBytes({ ...model('a', false), context_length: 1024 }, 4096)).toBe((100 + 64 + 64) * MiB)
    // Buffers grow with big weights: a tenth of them.
    expect(modelMemoryBytes(model('big', false, 4096), 4096)).toBe(
      Math.ceil(4096 * MiB + 256 * MiB + 409.6 * MiB),
    )
  })
})

describe('the model a request means', () => {
  it.each([
    ['the one named, loaded or not', [model('a', true), model('b', false)], 'b', 'b'],
    ['the one named, not here', [model('a', true)], 'b', undefined],
    ['no name: the only loaded model', [model('a', false), model('b', true)], undefined, 'b'],
    ['no name: the only model', [model('a', false)], undefined, 'a'],
    ['no name, several loaded', [model('a', true), model('b', true)], undefined, undefined],
    ['no name, several and none loaded', [model('a', false), model('b', false)], undefined, undefined],
    ['no model here', [], undefined, undefined],
  ])('%s', (_name, models, name, expected) => {
    expect(meantModel(models, name)?.name).toBe(expected)
  })

  it('names a model named without reading the directory, and asks for a name among the choices', async () => {
    const unread = { list: () => Promise.reject(new Error('read')) }
    expect(await modelMeant(unread, 'x')).toBe('x')
    expect(await modelMeant(manager([model('a', false), model('b', true)]), undefined)).toBe('b')
    const several = modelMeant(manager([model('a', true), model('b', true), model('c', false)]), undefined)
    await expect(several).rejects.toBeInstanceOf(ModelRequiredError)
    await expect(several).rejects.toThrow('name a model: this peer has several (a, b)')
    await expect(modelMeant(manager([]), undefined)).rejects.toThrow('no model is available on this peer')
  })
})

describe('placeModel', () => {
  const plenty = () => 64 * 1024 * MiB
  it.each([
    ['no model here', [], undefined, plenty, { cannot: 'no model on this peer' }],
    ['the model named, not here', [model('a', false)], 'b', plenty, { cannot: 'no model "b"' }],
    [
      'the model named, loaded',
      [model('a', true), model('b', false)],
      'a',
      plenty,
      { model: 'a', loaded: true },
    ],
    ['the model named, fitting', [model('a', false)], 'a', plenty, { model: 'a', loaded: false }],
    [
      'the model named, too big for the memory free',
      [model('a', false)],
      'a',
      () => 300 * MiB,
      { cannot: 'model "a" needs about 420 MiB of memory, 300 MiB is free' },
    ],
    [
      'the model named, too big for the memory free, on a peer that can split it',
      [model('a', false)],
      'a',
      () => 300 * MiB,
      { model: 'a', loaded: false },
      true,
    ],
    [
      'a loaded model stays placeable whatever is free',
      [model('a', true)],
      'a',
      () => 0,
      { model: 'a', loaded: true },
    ],
    [
      'no name: the only loaded model',
      [model('a', false), model('b', true)],
      undefined,
      plenty,
      { model: 'b', loaded: true },
    ],
    ['no name: the only model', [model('a', false)], undefined, plenty, { model: 'a', loaded: false }],
    [
      'no name and several models, none loaded',
      [model('a', false), model('b', false)],
      undefined,
      plenty,
      { cannot: 'several models on this peer and the task names none' },
    ],
  ])('%s', async (_name, models, name, free, expected, canSplit = false) => {
    expect(await placeModel(manager(models), name, { freeBytes: free, canSplit })).toEqual(expected)
  })
})
