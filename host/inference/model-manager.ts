/**
 * The models of this peer: what the models directory holds, which of them are loaded, and loading
 * and unloading them. A file is loaded only after `scanModelsDir` has read and checked its header
 * again: a truncated file or a missing key can make llama.cpp abort, so a bad file is refused with
 * the scan's reason. Each loaded model is served by a llama-server process of its own (EngineModel):
 * a file that passes the checks and still makes llama.cpp abort kills that process only. Then the
 * backend is probed again with a tiny model: if that crashes too, the backend is at fault (the next
 * one takes over, the file is not touched); else the file is quarantined by hash (ModelQuarantine)
 * and listed as unusable with the reason from then on.
 *
 * The manager is the only reader of the models directory (the registry's capability scans go
 * through `list`), so two scans never race on the hash cache.
 */
import { availableParallelism, freemem } from 'node:os'
import type { LongOperationOptions } from '../interface/progress.ts'
import type { Startable } from '../interface/startable.ts'
import type { Logger } from '../log/logger.ts'
import { SerialQueue } from '../runtime/serial-queue.ts'
import { blameCrash } from './crash-blame.ts'
import { type ActiveBackend, EngineBackends } from './engine/engine-backends.ts'
import { EngineModel } from './engine/engine-model.ts'
import { type ServerExit, ServerStartError } from './engine/llama-server-process.ts'
import type { FileHashCache } from './file-hash-cache.ts'
import { type GgufModel, modelName, scanModelsDir, type UnusableModel } from './gguf-scan.ts'
import { type IdleView, idleView, MIN_IDLE_MS, requestKeepAlive } from './keep-alive.ts'
import { defaultSlots, modelMemoryBytes } from './memory-fit.ts'
import { ModelLoadError, ModelNotFoundError, ModelTooLargeError, ModelUnusableError } from './model-errors.ts'
import { ModelQuarantine } from './model-quarantine.ts'
import { holdersText, planRoom } from './model-room.ts'
import { type ModelsDirWatch, watchModelsDir } from './models-dir-watch.ts'
import { SharedLoads } from './shared-load.ts'

// Who loads models catches the errors of a load by importing them from here too.
export * from './model-errors.ts'

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
  /** The engine's backends (default: the bundled build's, chosen on the first load). */
  backends?: EngineBackends
  /** The most memory models may take here (`--model-memory`); default: all that is free. */
  memoryLimitBytes?: number
  /** How long a model stays loaded once idle (`--keep-alive`); default 5 min, KEEP_FOREVER: never unloaded. */
  keepAliveMs?: number
  /** Memory this peer's RPC worker holds for others' splits: within the limit, and never evicted. */
  heldForSplits?: () => number
  logger: Logger
}

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

export interface AcquireOptions extends LongOperationOptions {
  /** The request's keep-alive (Ollama's `keep_alive`): the model's from now on, up to the peer's own. */
  keepAliveMs?: number
}

/** How often loaded models are checked for a keep-alive that ran out. */
const SWEEP_MS = 1_000

const DEFAULT_CONTEXT_SIZE = 4096

export class ModelManager implements Startable {
  /** Tokens per context asked for (each model's is capped by its training context). */
  readonly contextSize: number
  readonly #threads: number
  readonly #quarantine: ModelQuarantine
  readonly backends: EngineBackends
  readonly #loaded = new Map<string, EngineModel>()
  readonly #loading = new SharedLoads<EngineModel>()
  readonly #listeners = new Set<() => void>()
  readonly #loadListeners = new Set<(name: string, loadMs: number) => void>()
  // Scans share the hash cache file; loads go one at a time, each making room and choosing slots
  // against the memory of the models already loaded.
  readonly #scans = new SerialQueue()
  readonly #loads = new SerialQueue()
  /** Keep-alives requests set per model (Ollama's: a request's value holds from then on). */
  readonly #keepAlives = new Map<string, number>()
  #sweeper: NodeJS.Timeout | undefined
  #watch: ModelsDirWatch | undefined

  readonly #init: ModelManagerInit

  constructor(init: ModelManagerInit) {
    this.#init = init
    this.contextSize = init.contextSize ?? DEFAULT_CONTEXT_SIZE
    this.#threads = init.threads ?? availableParallelism()
    this.#quarantine = init.quarantine ?? new ModelQuarantine(null)
    this.backends = init.backends ?? new EngineBackends({ logger: init.logger })
  }

  async start(): Promise<void> {
    await this.#quarantine.load()
    this.#sweeper = setInterval(() => void this.sweepIdle(), SWEEP_MS)
    this.#sweeper.unref()
    this.#watch = watchModelsDir(this.#init.modelsDir, () => this.changed(), this.#init.logger)
  }

  async stop(): Promise<void> {
    clearInterval(this.#sweeper)
    this.#watch?.close()
    await this.#loading.settled()
    await Promise.all([...this.#loaded.keys()].map((name) => this.unload(name)))
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
    return [...this.#loaded.keys()]
  }

  /** Memory models may still take here: what is free, within the limit less what the loaded ones take. */
  freeModelBytes(): number {
    const limit = this.#init.memoryLimitBytes
    if (limit === undefined) return freemem()
    const used = [...this.#loaded.values()].reduce((sum, m) => sum + m.memoryBytes, 0)
    const held = this.#init.heldForSplits?.() ?? 0
    return Math.max(0, Math.min(freemem(), limit - used - held))
  }

  /** Memory the idle loaded models hold: what a load here may free by unloading them. */
  evictableBytes(): number {
    return [...this.#loaded.values()].reduce((sum, m) => sum + (m.busy === 0 ? m.memoryBytes : 0), 0)
  }

  /** A loaded model's slots and how many run now; null when it is not loaded. */
  slotsOf(name: string): { slots: number; busy: number } | null {
    const model = this.#loaded.get(name)
    return model ? { slots: model.slots, busy: model.busy } : null
  }

  /** The loaded models, for their slots and decode rates. */
  loadedModels(): EngineModel[] {
    return [...this.#loaded.values()]
  }

  /**
   * Every model file of the models directory, read and checked now; usable ones say whether loaded.
   * A quarantined file is unusable, with the reason it was quarantined.
   */
  async list(): Promise<ModelListing> {
    const scan = await this.#scans.run(() =>
      scanModelsDir(this.#init.modelsDir, { hashCache: this.#init.hashCache, logger: this.#init.logger }),
    )
    const models: ListedModel[] = []
    const unusable = [...scan.unusable]
    for (const model of scan.usable) {
      const quarantined = this.#quarantine.get(model.sha256)
      if (quarantined) unusable.push({ path: model.path, reason: `quarantined: ${quarantined.reason}` })
      else models.push({ ...model, ...this.idleOf(model.name) })
    }
    return { models, unusable }
  }

  /** The keep-alive of a model: the last a request set, at most the peer's (`--keep-alive`), else the peer's. */
  keepAliveOf(name: string): number {
    return requestKeepAlive(this.#keepAlives.get(name), this.#init.keepAliveMs)
  }

  /** Whether a model is loaded, and since when it is idle and when it unloads for it. */
  idleOf(name: string): IdleView {
    return idleView(this.#loaded.get(name) ?? null, this.keepAliveOf(name))
  }

  /**
   * Unloads every model idle past its keep-alive; never one a request runs on, nor one a request
   * touched since it was found idle. Answers the models unloaded.
   */
  async sweepIdle(now = Date.now()): Promise<string[]> {
    const unloaded: string[] = []
    for (const [name, model] of [...this.#loaded]) {
      const at = this.idleOf(name).unloads_at
      if (at === null || at > now) continue
      const seen = model.lastUsedAt
      await this.#loading.settled(name)
      // Checked again with nothing awaited before the model leaves the map: no request starts on it after.
      if (this.#loaded.get(name) !== model || model.busy > 0 || model.lastUsedAt !== seen) continue
      this.#loaded.delete(name)
      this.#init.logger.info(
        { model: name, idle_ms: now - seen, keep_alive_ms: this.keepAliveOf(name) },
        'unloading an idle model (its keep-alive ran out)',
      )
      await model.dispose()
      this.changed()
      unloaded.push(name)
    }
    return unloaded
  }

  /** Unloads the least recently used idle models until `need` bytes fit; ModelTooLargeError when they cannot. */
  async #makeRoom(name: string, need: number): Promise<void> {
    const resident = [...this.#loaded].map(([n, m]) => ({
      name: n,
      bytes: m.memoryBytes,
      busy: m.busy,
      lastUsedAt: m.lastUsedAt,
    }))
    const plan = planRoom(resident, need, this.freeModelBytes())
    if ('cannot' in plan)
      throw new ModelTooLargeError(name, need, this.freeModelBytes(), holdersText(plan.cannot))
    for (const evicted of plan.evict) {
      this.#init.logger.info(
        { model: evicted, for: name },
        'unloading the least recently used idle model to make room',
      )
      await this.unload(evicted)
    }
  }

  /** A model's last request ended: a keep-alive shorter than the sweep's period is kept to the moment. */
  #idleSoon(name: string): void {
    const wait = Math.max(this.keepAliveOf(name), MIN_IDLE_MS)
    if (wait < SWEEP_MS) setTimeout(() => void this.sweepIdle(), wait + 20).unref()
  }

  /**
   * Loads the model (once: a call while it loads joins that load), its file read and checked once. A
   * `plan` may run it another way (split over peers): more engine arguments, and its own account of a
   * crash. A caller whose signal aborts is answered at once; the load itself stops (its engine process
   * ended, nothing kept) once every caller has aborted.
   */
  load(name: string, options: ModelLoadOptions = {}): Promise<EngineModel> {
    const loaded = this.#loaded.get(name)
    if (loaded) return Promise.resolve(loaded)
    // Not the first caller's signal alone: a task and a person may wait on one load, and either still wants it.
    return this.#loading.join(name, options, async (load) => {
      const info = await this.#usable(name)
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

  /** The model a task asked for, loaded if it was not (`loadMs` is then the time it took, else 0). */
  async acquire(name: string, options: AcquireOptions = {}): Promise<{ model: EngineModel; loadMs: number }> {
    if (options.keepAliveMs !== undefined) this.#keepAlives.set(name, options.keepAliveMs)
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
  async unload(name: string): Promise<boolean> {
    await this.#loading.settled(name)
    const loaded = this.#loaded.get(name)
    if (!loaded) return false
    this.#loaded.delete(name)
    await loaded.dispose()
    this.#init.logger.info({ model: name }, 'model unloaded')
    this.changed()
    return true
  }

  /** The usable model of that name, read and checked now; else why there is none. */
  async #usable(name: string): Promise<ListedModel> {
    const { models, unusable } = await this.list()
    const info = models.find((m) => m.name === name)
    if (info) return info
    const bad = unusable.find((u) => modelName(u.path) === name)
    if (bad) throw new ModelUnusableError(name, bad.reason)
    throw new ModelNotFoundError(
      name,
      models.map((m) => m.name),
    )
  }

  async #loadNow(
    info: ListedModel,
    { signal, onProgress }: Required<LongOperationOptions>,
    layout?: EngineLayout,
  ): Promise<EngineModel> {
    // Stopped while it waited for another model's load: nothing was started.
    signal.throwIfAborted()
    const { name } = info
    const { logger } = this.#init
    const slots = this.#init.slots ?? defaultSlots(info, this.contextSize)
    // The operator's limit holds for a whole load (the least recently used idle models make room); a
    // split's share was planned within it.
    if (!layout && this.#init.memoryLimitBytes !== undefined)
      await this.#makeRoom(name, modelMemoryBytes(info, this.contextSize))
    const backend = await this.backends.active(signal)
    logger.info(
      { model: name, path: info.path, size_bytes: info.size_bytes, backend: backend.candidate.id, slots },
      'loading model',
    )
    let loaded: EngineModel
    try {
      loaded = await EngineModel.start({
        info,
        backend,
        contextSize: this.contextSize,
        threads: this.#threads,
        slots,
        onProgress,
        signal,
        ...(layout ? { extraArgs: layout.args, memoryBytes: layout.memoryBytes } : {}),
        onCrash: (exit, on) => this.#crashed(info, exit, on, layout),
        onIdle: () => this.#idleSoon(name),
      })
    } catch (err) {
      if (!(err instanceof ServerStartError)) throw err
      if (layout) throw await this.#crashed(info, err.exit, backend, layout)
      // Died while loading: an abort is blamed as any crash is; an exit with an error is a refusal.
      if (err.exit.signal !== null) throw await this.#crashed(info, err.exit, backend)
      throw new ModelLoadError(name, [err.exit.reason], err)
    }
    this.#loaded.set(name, loaded)
    logger.info({ model: name, ms: loaded.loadMs, context_size: loaded.contextSize, slots }, 'model loaded')
    for (const listener of this.#loadListeners) listener(name, loaded.loadMs)
    this.changed()
    return loaded
  }

  /**
   * A model's engine process died on its own: the model is gone, and the crash is blamed (crash-blame.ts).
   */
  async #crashed(
    info: GgufModel,
    exit: ServerExit,
    backend: ActiveBackend,
    layout?: EngineLayout,
  ): Promise<Error> {
    if (this.#loaded.get(info.name)?.info.sha256 === info.sha256) this.#loaded.delete(info.name)
    const error = await blameCrash(
      { info, exit, backend, layout },
      { backends: this.backends, quarantine: this.#quarantine, logger: this.#init.logger },
    )
    this.changed()
    return error
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
