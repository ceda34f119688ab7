/**
 * Which model a request means on this peer, and whether it can run here. One rule picks the model: the
 * one the request names, else the only loaded model, else (none loaded) the only usable one. A peer
 * claims only what it can place, so a task goes to a peer that has the model and room for it instead of
 * one that would fail: loaded, or fitting the memory free now (estimated from its GGUF metadata), or too
 * big here on a peer that can split it over the mesh (its load plans the split, or says why not).
 */
import { modelMemoryBytes } from '../inference/memory-fit.ts'
import { ModelRequiredError } from '../inference/model-manager.ts'
import type { ModelsPort } from '../inference/models-port.ts'
import type { Placement } from './worker.ts'

type Choice = { name: string; loaded: boolean }

/** The model a request naming `name` (or none) means among `models`; undefined when none or several could be. */
export function meantModel<M extends Choice>(models: readonly M[], name: string | undefined): M | undefined {
  if (name !== undefined) return models.find((m) => m.name === name)
  const loaded = models.filter((m) => m.loaded)
  if (loaded.length === 1) return loaded[0]
  return loaded.length === 0 && models.length === 1 ? models[0] : undefined
}

/** The name of the model a request means; ModelRequiredError, naming the choices, when it names none and several could be. */
export async function modelMeant(
  models: Pick<ModelsPort, 'list'>,
  name: string | undefined,
): Promise<string> {
  if (name !== undefined) return name
  const { models: usable } = await models.list()
  const meant = meantModel(usable, undefined)
  if (meant !== undefined) return meant.name
  const loaded = usable.filter((m) => m.loaded)
  throw new ModelRequiredError((loaded.length > 0 ? loaded : usable).map((m) => m.name))
}

/** What this peer has room for: the memory models may still take, and whether a split may hold more. */
export interface Room {
  freeBytes(): number
  canSplit: boolean
}

export async function placeModel(
  models: Pick<ModelsPort, 'list' | 'contextSize'>,
  name: string | undefined,
  room: Room,
): Promise<Placement> {
  const { models: usable } = await models.list()
  if (usable.length === 0) return { cannot: 'no model on this peer' }
  const model = meantModel(usable, name)
  if (model === undefined) {
    return {
      cannot:
        name === undefined ? 'several models on this peer and the task names none' : `no model "${name}"`,
    }
  }
  if (model.loaded) return { model: model.name, loaded: true }
  const need = modelMemoryBytes(model, models.contextSize)
  const free = room.freeBytes()
  if (need > free && !room.canSplit) {
    return {
      cannot: `model "${model.name}" needs about ${mib(need)} of memory, ${mib(free)} is free`,
    }
  }
  return { model: model.name, loaded: false }
}

const mib = (bytes: number) => `${Math.ceil(bytes / 1024 ** 2)} MiB`
