/**
 * What the workers get of this peer's models, composed from the manager and the splits: a model too
 * big here is placed and loaded split over the mesh where splits can run, and refused where they
 * cannot; any other failure of a load is the load's, never a split's.
 */
import { describe, expect, it } from 'vitest'
import type { EngineModel } from '../../../host/inference/engine/engine-model.ts'
import {
  type ListedModel,
  type ModelManager,
  ModelNotFoundError,
  ModelTooLargeError,
} from '../../../host/inference/model-manager.ts'
import { workerModels } from '../../../host/node/worker-models.ts'
import { SplitUnavailableError } from '../../../host/split/split-service.ts'

const MiB = 1024 ** 2
const big = {
  name: 'big',
  size_bytes: 900 * MiB,
  context_length: 4096,
  kv_bytes_per_token: 0,
  loaded: false,
} as ListedModel
const splitModel = { info: { name: 'big' }, loadMs: 7 } as EngineModel

/** A manager with one model too big for the 100 MiB free here; its loads fail with `failure`. */
function manager(failure: Error) {
  return {
    contextSize: 4096,
    list: async () => ({ models: [big], unusable: [] }),
    freeModelBytes: () => 100 * MiB,
    acquire: async () => {
      throw failure
    },
  } as unknown as ModelManager
}

const tooLarge = new ModelTooLargeError('big', 900 * MiB, 100 * MiB)

describe('worker models', () => {
  it('places and loads a model too big here split over the mesh, where splits can run', async () => {
    const loads: string[] = []
    const splits = {
      load: async (name: string) => {
        loads.push(name)
        return splitModel
      },
    }
    const models = workerModels(manager(tooLarge), splits)
    expect(await models.place('big')).toEqual({ model: 'big', loaded: false })
    expect(await models.acquire('big', {})).toEqual({ model: splitModel, loadMs: 7 })
    expect(loads).toEqual(['big'])
  })

  it('refuses it where no split can run', async () => {
    const models = workerModels(manager(tooLarge))
    expect(await models.place('big')).toEqual({
      cannot: 'model "big" needs about 990 MiB of memory, 100 MiB is free',
    })
    await expect(models.acquire('big', {})).rejects.toBe(tooLarge)
  })

  it('refuses for room, naming what holds it here, when a split is short of memory too; else the split failed', async () => {
    const held = new ModelTooLargeError('big', 900 * MiB, 100 * MiB, 'coder (512 MiB, busy)')
    const short = new SplitUnavailableError('big', 'the mesh has 0.05 GiB free on 1 usable peers')
    const models = workerModels(manager(held), { load: () => Promise.reject(short) })
    const err = await models.acquire('big', {}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ModelTooLargeError)
    expect((err as Error).message).toBe(
      'model "big" needs about 900 MiB, models may take 100 MiB here (--model-memory), held by coder ' +
        '(512 MiB, busy); nor can a split serve it: model "big" cannot be split over the mesh now: the ' +
        'mesh has 0.05 GiB free on 1 usable peers',
    )
    const lost = new Error('a split worker went away')
    const failing = workerModels(manager(held), { load: () => Promise.reject(lost) })
    await expect(failing.acquire('big', {})).rejects.toBe(lost)
  })

  it('leaves any other failure of a load to the load', async () => {
    const missing = new ModelNotFoundError('big', [])
    const splits = { load: () => Promise.reject(new Error('a split was tried')) }
    await expect(workerModels(manager(missing), splits).acquire('big', {})).rejects.toBe(missing)
  })

  it('means the only model when a request names none', async () => {
    expect(await workerModels(manager(tooLarge)).meant(undefined)).toBe('big')
  })
})
