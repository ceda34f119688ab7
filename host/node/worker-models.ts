/**
 * What the inference workers get of this peer's models, composed here from the model manager and the
 * splits: a model too big for this peer alone is placed, and loaded, split over the mesh where this
 * peer can reach others. The manager never learns that splits exist; the splits load through it.
 */
import { ModelTooLargeError } from '../inference/model-manager.ts'
import type { ModelsPort } from '../inference/models-port.ts'
import { failureOf } from '../interface/failure-kind.ts'
import type { SplitsPort } from '../split/splits-port.ts'
import { modelMeant, placeModel } from '../workers/model-placement.ts'
import type { WorkerModels } from '../workers/worker-models.ts'

/** `splits`: null where none can run (no peer streams on this backend). */
export function workerModels(
  models: ModelsPort,
  splits: Pick<SplitsPort, 'load'> | null = null,
): WorkerModels {
  return {
    place: (name) =>
      placeModel(models, name, { freeBytes: () => models.freeModelBytes(), canSplit: splits !== null }),
    meant: (name) => modelMeant(models, name),
    async acquire(name, options) {
      try {
        return await models.acquire(name, options)
      } catch (err) {
        if (!(err instanceof ModelTooLargeError) || splits === null) throw err
        try {
          const model = await splits.load(name, options)
          return { model, loadMs: model.loadMs }
        } catch (splitErr) {
          // Short of memory both ways: the refusal names what holds it here, and why no split could.
          if (failureOf(splitErr) !== 'unavailable/no_room') throw splitErr
          throw err.splitRefused((splitErr as Error).message)
        }
      }
    },
  }
}
