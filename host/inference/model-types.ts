/**
 * What the model manager's parts and its users share: a model as listed, and another way to run one
 * (a split's layout). Below the manager, so crash blame and the loader read them without importing it.
 */
import type { LongOperationOptions } from '../interface/progress.ts'
import type { ServerExit } from './engine/llama-server-process.ts'
import type { GgufModel, UnusableModel } from './gguf-scan.ts'
import type { IdleView } from './keep-alive.ts'

export interface ListedModel extends GgufModel, IdleView {}

export interface ModelListing {
  models: ListedModel[]
  unusable: UnusableModel[]
}

/** Another way to run a model's engine (split over peers): its arguments and its account of a crash. */
export interface EngineLayout {
  args: string[]
  /** Memory the model takes on this peer (its share). */
  memoryBytes: number
  /** The error a crash is, when the layout explains it (a worker went away); null: blame as usual. */
  blame(exit: ServerExit): Promise<Error | null>
  /** Gives back what the layout holds (a split's tunnels) when the load it was planned for fails. */
  release(): Promise<void>
}

/** Plans another way to run a model once its file is read, before its engine starts; null: whole here. */
export type LayoutPlan = (
  info: ListedModel,
  load: Required<LongOperationOptions>,
) => Promise<EngineLayout | null>

export interface ModelLoadOptions extends LongOperationOptions {
  /** Run it another way (split over peers), as planned here; the first caller's plan holds for a shared load. */
  plan?: LayoutPlan
}
