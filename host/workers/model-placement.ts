/**
 * Where an inference input would run on this host: the model it names (or, naming none, the only
 * loaded model, else the only one), and whether that model is loaded or fits the memory free now
 * (estimated from its GGUF metadata). A peer claims only what it can place, so a task goes to a peer
 * that has the model and room for it instead of one that would fail; a peer that can split a model
 * over the mesh (it has the file, not the room) places it too, and its load plans the split.
 */
import { freemem } from 'node:os'
import { modelMemoryBytes } from '../inference/memory-fit.ts'
import type { ModelManager } from '../inference/model-manager.ts'
import type { Placement } from './worker.ts'

export async function placeModel(
  models: Pick<ModelManager, 'list' | 'contextSize'> & { splitLoader?: unknown },
  name: string | undefined,
  freeBytes: () => number = freemem,
): Promise<Placement> {
  const { models: usable } = await models.list()
  if (usable.length === 0) return { cannot: 'no model on this peer' }
  const loaded = usable.filter((m) => m.loaded)
  const model =
    name === undefined
      ? loaded.length === 1
        ? loaded[0]
        : loaded.length === 0 && usable.length === 1
          ? usable[0]
          : undefined
      : usable.find((m) => m.name === name)
  if (model === undefined) {
    return {
      cannot:
        name === undefined ? 'several models on this peer and the task names none' : `no model "${name}"`,
    }
  }
  if (model.loaded) return { model: model.name, loaded: true }
  const need = modelMemoryBytes(model, models.contextSize)
  const free = freeBytes()
  // Too big here, but a split over the mesh may hold it: the load plans one, or says why not.
  if (need > free && models.splitLoader) return { model: model.name, loaded: false }
  if (need > free) {
    return {
      cannot: `model "${model.name}" needs about ${mib(need)} of memory, ${mib(free)} is free`,
    }
  }
  return { model: model.name, loaded: false }
}

const mib = (bytes: number) => `${Math.ceil(bytes / 1024 ** 2)} MiB`
