/**
 * What the rest of the node asks of this peer's models (the model manager's façade): what the models
 * directory lists, loading and unloading, a worker's hold on a loaded model, the slots and memory
 * they leave, and the engine's backend. The splits load through it too.
 */
import type { LongOperationOptions } from '../interface/progress.ts'
import type { Startable } from '../interface/startable.ts'
import type { EngineBackends } from './engine/engine-backends.ts'
import type { EngineModel } from './engine/engine-model.ts'
import type { IdleView } from './keep-alive.ts'
import type { ModelListing, ModelLoadOptions } from './model-types.ts'

export interface AcquireOptions extends LongOperationOptions {
  /** The request's keep-alive (Ollama's `keep_alive`): the model's from now on, up to the peer's own. */
  keepAliveMs?: number
}

export interface ModelsPort extends Startable {
  /** Tokens per context asked for (each model's is capped by its training context). */
  readonly contextSize: number
  /** The engine's backend: the one chosen, its build, and what the status says of it. */
  readonly backends: Pick<EngineBackends, 'active' | 'build' | 'status'>
  onChange(listener: () => void): () => void
  onLoaded(listener: (name: string, loadMs: number) => void): () => void
  loadedNames(): string[]
  freeModelBytes(): number
  /** Memory the idle loaded models hold: what a load here may free by unloading them. */
  evictableBytes(): number
  slotsOf(name: string): { slots: number; busy: number; heldBack: number } | null
  loadedModels(): EngineModel[]
  list(): Promise<ModelListing>
  idleOf(name: string): IdleView
  load(name: string, options?: ModelLoadOptions): Promise<EngineModel>
  /** The model a task asked for, loaded if it was not (`loadMs` is then the time it took, else 0). */
  acquire(name: string, options?: AcquireOptions): Promise<{ model: EngineModel; loadMs: number }>
  unload(name: string): Promise<boolean>
  /** Tells the listeners the models changed (a pull added a file). */
  changed(): void
}
