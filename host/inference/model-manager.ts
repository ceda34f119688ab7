/**
 * The models of this peer, behind one façade: what the models directory holds (ModelCatalogue), which
 * of them are loaded and the memory they leave (LoadedModels), loading, unloading and crash blame
 * (ModelLoader), and unloading the idle ones (IdleSweep). A file is loaded only after the catalogue
 * has read and checked its header again: a truncated file or a missing key can make llama.cpp abort,
 * so a bad file is refused with the scan's reason. A file that passes the checks and still makes
 * llama.cpp abort kills its own engine process only; then the backend is probed again with a tiny
 * model: if that crashes too, the backend is at fault (the next one takes over, the file is not
 * touched); else the file is quarantined by hash (ModelQuarantine) and listed as unusable from then on.
 */
import { availableParallelism, freemem } from 'node:os'
import { MemoryBudget } from '../interface/memory-budget.ts'
import type { Logger } from '../log/logger.ts'
import { EngineBackends } from './engine/engine-backends.ts'
import type { EngineModel } from './engine/engine-model.ts'
import type { FileHashCache } from './file-hash-cache.ts'
import { IdleSweep } from './idle-sweep.ts'
import type { IdleView } from './keep-alive.ts'
import { LoadedModels, type ModelBudget } from './loaded-models.ts'
import { ModelCatalogue } from './model-catalogue.ts'
import { ModelLoader } from './model-loader.ts'
import { ModelQuarantine } from './model-quarantine.ts'
import type { ModelListing, ModelLoadOptions } from './model-types.ts'
import { type ModelsDirWatch, watchModelsDir } from './models-dir-watch.ts'
import type { AcquireOptions, ModelsPort } from './models-port.ts'
import { SharedLoads } from './shared-load.ts'

// Who loads models catches the errors of a load by importing them from here too, and reads its types.
export * from './model-errors.ts'
export type { EngineLayout, LayoutPlan, ListedModel, ModelListing, ModelLoadOptions } from './model-types.ts'

export interface ModelManagerInit {
  modelsDir: string
  hashCache: FileHashCache
  /** Files that crashed llama.cpp; default: kept in memory only. */
  quarantine?: ModelQuarantine
  /** Inference threads (llama-server's `--threads`); default: the cores this process may use. */
  threads?: number
  /** Tokens per context; capped by each model's training context. Default 4096. */
  contextSize?: number
  /** Requests each model serves at once; default from the model's size and the free memory. */
  slots?: number
  /** Slots the engine runs beyond that share, for the owner and members holding none (default 0). */
  heldBack?: number
  /** The engine's backends (default: the bundled build's, chosen on the first load). */
  backends?: EngineBackends
  /**
   * The memory promised on this peer, which loaded models draw from (its limit is `--model-memory`);
   * default: one of their own with no limit (all that is free).
   */
  budget?: ModelBudget
  /** How long a model stays loaded once idle (`--keep-alive`); default 5 min, KEEP_FOREVER: never unloaded. */
  keepAliveMs?: number
  logger: Logger
}

const DEFAULT_CONTEXT_SIZE = 4096

export class ModelManager implements ModelsPort {
  /** Tokens per context asked for (each model's is capped by its training context). */
  readonly contextSize: number
  /** Slots each model's engine runs beyond a member's share (`--held-back`). */
  readonly heldBack: number
  readonly backends: EngineBackends
  readonly #init: ModelManagerInit
  readonly #quarantine: ModelQuarantine
  readonly #loaded: LoadedModels
  readonly #loading = new SharedLoads<EngineModel>()
  readonly #catalogue: ModelCatalogue
  readonly #sweep: IdleSweep
  readonly #loader: ModelLoader
  readonly #listeners = new Set<() => void>()
  readonly #loadListeners = new Set<(name: string, loadMs: number) => void>()
  #watch: ModelsDirWatch | undefined

  constructor(init: ModelManagerInit) {
    const { logger } = init
    this.#init = init
    this.contextSize = init.contextSize ?? DEFAULT_CONTEXT_SIZE
    this.heldBack = init.heldBack ?? 0
    this.#quarantine = init.quarantine ?? new ModelQuarantine(null)
    this.backends = init.backends ?? new EngineBackends({ logger })
    const changed = () => this.changed()
    const loaded = new LoadedModels(init.budget ?? new MemoryBudget({ freeMemory: freemem }))
    const sweep = new IdleSweep({
      loaded,
      loading: this.#loading,
      keepAliveMs: init.keepAliveMs,
      logger,
      changed,
    })
    const catalogue = new ModelCatalogue({
      ...init,
      quarantine: this.#quarantine,
      idleOf: (n) => sweep.idleOf(n),
    })
    this.#loader = new ModelLoader({
      catalogue,
      loaded,
      loading: this.#loading,
      backends: this.backends,
      quarantine: this.#quarantine,
      contextSize: this.contextSize,
      threads: init.threads ?? availableParallelism(),
      ...(init.slots !== undefined ? { slots: init.slots } : {}),
      heldBack: this.heldBack,
      logger,
      onIdle: (name) => sweep.soon(name),
      onLoaded: (name, loadMs) => {
        for (const listener of this.#loadListeners) listener(name, loadMs)
      },
      changed,
    })
    this.#loaded = loaded
    this.#sweep = sweep
    this.#catalogue = catalogue
  }

  async start(): Promise<void> {
    await this.#quarantine.load()
    this.#sweep.start()
    this.#watch = watchModelsDir(this.#init.modelsDir, () => this.changed(), this.#init.logger)
  }

  async stop(): Promise<void> {
    this.#sweep.stop()
    this.#watch?.close()
    await this.#loading.settled()
    await Promise.all(this.#loaded.names().map((name) => this.unload(name)))
  }

  /**
   * Called after a model is loaded or unloaded, or the models directory gained one (`changed()`):
   * the registry advertises the change, the dashboard's feed sends it.
   */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Called after a model is loaded, with the time it took (the metrics keep it). */
  onLoaded(listener: (name: string, loadMs: number) => void): () => void {
    this.#loadListeners.add(listener)
    return () => this.#loadListeners.delete(listener)
  }

  /** Names of the loaded models. */
  loadedNames(): string[] {
    return this.#loaded.names()
  }

  /** Memory models may still take here: what is free, within the limit less what the loaded ones take. */
  freeModelBytes(): number {
    return this.#loaded.freeBytes()
  }

  /** Memory the idle loaded models hold: what a load here may free by unloading them. */
  evictableBytes(): number {
    return this.#loaded.evictableBytes()
  }

  /** A loaded model's slots (held-back ones included), how many run now and how many are held back; null when not loaded. */
  slotsOf(name: string): { slots: number; busy: number; heldBack: number } | null {
    const slots = this.#loaded.slotsOf(name)
    return slots && { ...slots, heldBack: this.heldBack }
  }

  /** The loaded models, for their slots and decode rates. */
  loadedModels(): EngineModel[] {
    return this.#loaded.models()
  }

  /** Every model file of the models directory, read and checked now; usable ones say whether loaded. */
  list(): Promise<ModelListing> {
    return this.#catalogue.list()
  }

  /** The keep-alive of a model: the last a request set, at most the peer's (`--keep-alive`), else the peer's. */
  keepAliveOf(name: string): number {
    return this.#sweep.keepAliveOf(name)
  }

  /** Whether a model is loaded, and since when it is idle and when it unloads for it. */
  idleOf(name: string): IdleView {
    return this.#sweep.idleOf(name)
  }

  /** Unloads every model idle past its keep-alive; answers the models unloaded. */
  sweepIdle(now = Date.now()): Promise<string[]> {
    return this.#sweep.sweep(now)
  }

  /** Loads the model, or joins its load under way (ModelLoader.load). */
  load(name: string, options: ModelLoadOptions = {}): Promise<EngineModel> {
    return this.#loader.load(name, options)
  }

  /** The model a task asked for, loaded if it was not (`loadMs` is then the time it took, else 0). */
  async acquire(name: string, options: AcquireOptions = {}): Promise<{ model: EngineModel; loadMs: number }> {
    if (options.keepAliveMs !== undefined) this.#sweep.requested(name, options.keepAliveMs)
    const already = this.#loaded.get(name)
    if (already) {
      // In the caller's hands now: not idle, though its request has not reached the engine yet.
      already.lastUsedAt = Date.now()
      return { model: already, loadMs: 0 }
    }
    const model = await this.load(name, options)
    return { model, loadMs: model.loadMs }
  }

  /** Unloads the model, stopping tasks that run on it; false when it was not loaded. */
  unload(name: string): Promise<boolean> {
    return this.#loader.unload(name)
  }

  /** Tells the listeners the models changed (also used after a pull added a file). */
  changed(): void {
    for (const listener of this.#listeners) {
      try {
        listener()
      } catch (err) {
        this.#init.logger.warn({ err }, 'model change listener failed')
      }
    }
  }
}
