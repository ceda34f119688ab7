/**
 * Loads and unloads models, one load at a time, each making room and choosing slots against the
 * memory of the models already loaded. A file is loaded only after the catalogue has read and checked
 * its header again. Each loaded model is served by a llama-server process of its own (EngineModel):
 * a file that passes the checks and still makes llama.cpp abort kills that process only, and the
 * crash is blamed (crash-blame.ts: the backend, the file, or a split's worker).
 */
import type { LongOperationOptions } from '../interface/progress.ts'
import type { Logger } from '../log/logger.ts'
import { SerialQueue } from '../runtime/serial-queue.ts'
import { blameCrash } from './crash-blame.ts'
import type { ActiveBackend, EngineBackends } from './engine/engine-backends.ts'
import { EngineModel } from './engine/engine-model.ts'
import { type ServerExit, ServerStartError } from './engine/llama-server-process.ts'
import type { GgufModel } from './gguf-scan.ts'
import type { LoadedModels } from './loaded-models.ts'
import { defaultSlots, modelMemoryBytes } from './memory-fit.ts'
import type { ModelCatalogue } from './model-catalogue.ts'
import { ModelLoadError, ModelTooLargeError } from './model-errors.ts'
import type { ModelQuarantine } from './model-quarantine.ts'
import { holdersText, planRoom } from './model-room.ts'
import type { EngineLayout, ListedModel, ModelLoadOptions } from './model-types.ts'
import type { SharedLoads } from './shared-load.ts'

export interface ModelLoaderInit {
  catalogue: ModelCatalogue
  loaded: LoadedModels
  loading: SharedLoads<EngineModel>
  backends: EngineBackends
  quarantine: ModelQuarantine
  /** Tokens per context asked for (each model's is capped by its training context). */
  contextSize: number
  threads: number
  /** Requests each model serves at once for one member (its share); default from its size and the free memory. */
  slots?: number
  /** Slots the engine runs beyond that share, for the owner and members holding none (default 0). */
  heldBack?: number
  logger: Logger
  /** A model's last request ended. */
  onIdle: (name: string) => void
  /** A model loaded, with the time it took. */
  onLoaded: (name: string, loadMs: number) => void
  /** A model loaded, unloaded or crashed. */
  changed: () => void
}

export class ModelLoader {
  readonly #init: ModelLoaderInit
  readonly #loads = new SerialQueue()

  constructor(init: ModelLoaderInit) {
    this.#init = init
  }

  /**
   * Loads the model (once: a call while it loads joins that load), its file read and checked once. A
   * `plan` may run it another way (split over peers): more engine arguments, and its own account of a
   * crash. A caller whose signal aborts is answered at once; the load itself stops (its engine process
   * ended, nothing kept) once every caller has aborted.
   */
  load(name: string, options: ModelLoadOptions = {}): Promise<EngineModel> {
    const loaded = this.#init.loaded.get(name)
    if (loaded) return Promise.resolve(loaded)
    // Not the first caller's signal alone: a task and a person may wait on one load, and either still wants it.
    return this.#init.loading.join(name, options, async (load) => {
      const info = await this.#init.catalogue.usable(name)
      // Planned outside the queue of loads: a split's round trips and tunnels hold up no other model.
      const layout = (await options.plan?.(info, load)) ?? undefined
      try {
        return await this.#loads.run(() => this.#loadNow(info, load, layout))
      } catch (err) {
        await layout?.release()
        throw err
      }
    })
  }

  /** Unloads the model, stopping tasks that run on it; false when it was not loaded. */
  async unload(name: string): Promise<boolean> {
    const { loaded, loading, logger, changed } = this.#init
    await loading.settled(name)
    const model = loaded.get(name)
    if (!model) return false
    loaded.delete(name)
    await model.dispose()
    logger.info({ model: name }, 'model unloaded')
    changed()
    return true
  }

  /** Unloads the least recently used idle models until `need` bytes fit; ModelTooLargeError when they cannot. */
  async #makeRoom(name: string, need: number): Promise<void> {
    const { loaded, logger } = this.#init
    const plan = planRoom(loaded.residents(), need, loaded.freeBytes())
    if ('cannot' in plan)
      throw new ModelTooLargeError(name, need, loaded.freeBytes(), holdersText(plan.cannot))
    for (const evicted of plan.evict) {
      logger.info({ model: evicted, for: name }, 'unloading the least recently used idle model to make room')
      await this.unload(evicted)
    }
  }

  async #loadNow(
    info: ListedModel,
    { signal, onProgress }: Required<LongOperationOptions>,
    layout?: EngineLayout,
  ): Promise<EngineModel> {
    // Stopped while it waited for another model's load: nothing was started.
    signal.throwIfAborted()
    const { name } = info
    const { logger, contextSize } = this.#init
    const slots = (this.#init.slots ?? defaultSlots(info, contextSize)) + (this.#init.heldBack ?? 0)
    // The operator's limit holds for a whole load (the least recently used idle models make room); a
    // split's share was planned within it.
    const need = layout?.memoryBytes ?? modelMemoryBytes(info, contextSize)
    if (!layout && this.#init.loaded.limited) await this.#makeRoom(name, need)
    // Promised before the engine starts, settled to what the started model takes.
    const reservation = this.#init.loaded.reserve(name, need)
    try {
      const loaded = await this.#start(info, { signal, onProgress }, slots, layout)
      this.#init.loaded.set(name, loaded, reservation)
      logger.info({ model: name, ms: loaded.loadMs, context_size: loaded.contextSize, slots }, 'model loaded')
      this.#init.onLoaded(name, loaded.loadMs)
      this.#init.changed()
      return loaded
    } catch (err) {
      reservation.release()
      throw err
    }
  }

  /** Starts the model's engine process; a death while it starts is blamed, or refused with its reason. */
  async #start(
    info: ListedModel,
    { signal, onProgress }: Required<LongOperationOptions>,
    slots: number,
    layout?: EngineLayout,
  ): Promise<EngineModel> {
    const { name } = info
    const { logger, contextSize } = this.#init
    const backend = await this.#init.backends.active(signal)
    logger.info(
      { model: name, path: info.path, size_bytes: info.size_bytes, backend: backend.candidate.id, slots },
      'loading model',
    )
    try {
      return await EngineModel.start({
        info,
        backend,
        contextSize,
        threads: this.#init.threads,
        slots,
        onProgress,
        signal,
        ...(layout ? { extraArgs: layout.args, memoryBytes: layout.memoryBytes } : {}),
        onCrash: (exit, on) => this.#crashed(info, exit, on, layout),
        onIdle: () => this.#init.onIdle(name),
        logger,
      })
    } catch (err) {
      if (!(err instanceof ServerStartError)) throw err
      if (layout) throw await this.#crashed(info, err.exit, backend, layout)
      // Died while loading: an abort is blamed as any crash is; an exit with an error is a refusal.
      if (err.exit.signal !== null) throw await this.#crashed(info, err.exit, backend)
      throw new ModelLoadError(name, [err.exit.reason], err)
    }
  }

  /** A model's engine process died on its own: the model is gone, and the crash is blamed. */
  async #crashed(
    info: GgufModel,
    exit: ServerExit,
    backend: ActiveBackend,
    layout?: EngineLayout,
  ): Promise<Error> {
    const { loaded, backends, quarantine, logger, changed } = this.#init
    if (loaded.get(info.name)?.info.sha256 === info.sha256) loaded.delete(info.name)
    const error = await blameCrash({ info, exit, backend, layout }, { backends, quarantine, logger })
    changed()
    return error
  }
}
