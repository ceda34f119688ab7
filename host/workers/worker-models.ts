/**
 * What the inference workers need of this peer's models: where a request would run, which model it
 * means, and that model loaded. The node composes it (node/worker-models.ts) from the model manager and
 * the splits, so a model too big for this peer alone may be split over the mesh without either the
 * workers or the manager knowing.
 */
import type { AcquireOptions, ModelsPort } from '../inference/models-port.ts'
import type { Placement } from './worker.ts'

export interface WorkerModels {
  /** Where a request for `model` (or, naming none, the one it means) would run here; or why it cannot. */
  place(model: string | undefined): Promise<Placement>
  /** The name of the model a request means (model-placement.ts's rule); ModelRequiredError when unclear. */
  meant(model: string | undefined): Promise<string>
  /** The model, loaded if it was not (`loadMs` is then the time it took, else 0). */
  acquire(name: string, options: AcquireOptions): ReturnType<ModelsPort['acquire']>
}
