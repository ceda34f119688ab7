/**
 * The models of this peer: what the models directory holds, which of them are loaded, and loading
 * and unloading them. A file is loaded only after `scanModelsDir` has read and checked its header
 * again: a truncated file or a missing key can make llama.cpp abort the whole process, so a bad
 * file is refused with the scan's reason and the daemon never notices it beyond the error.
 *
 * The manager is the only reader of the models directory (the registry's capability scans go
 * through `list`), so two scans never race on the hash cache.
 */
import { performance } from 'node:perf_hooks'
import type { Startable } from '../daemon/startable.ts'
import type { Logger } from '../log/logger.ts'
import type { FileHashCache } from './file-hash-cache.ts'
import { type GgufModel, modelName, scanModelsDir, type UnusableModel } from './gguf-scan.ts'
import type { LlamaRuntime } from './llama-runtime.ts'
import { LoadedModel } from './loaded-model.ts'
import { SerialQueue } from './serial-queue.ts'

export interface ModelManagerInit {
  modelsDir: string
  hashCache: FileHashCache
  runtime: LlamaRuntime
  /** Tokens per context; capped by each model's training context. Default 4096. */
  contextSize?: number
  logger: Logger
}

export interface ListedModel extends GgufModel {
  loaded: boolean
}

export interface ModelListing {
  models: ListedModel[]
  unusable: UnusableModel[]
}

/** Thrown when no model file has the name asked for. */
export class ModelNotFoundError extends Error {
  static override readonly name = 'ModelNotFoundError'
  constructor(
    name: string,
    readonly available: readonly string[],
  ) {
    super(
      `no model named "${name}" in the models directory` +
        (available.length > 0 ? ` (models: ${available.join(', ')})` : ' (it holds no usable model)'),
    )
    this.name = 'ModelNotFoundError'
  }
}

/** Thrown when the model's file fails the checks made before any load (truncated, missing keys...). */
export class ModelUnusableError extends Error {
  static override readonly name = 'ModelUnusableError'
  constructor(
    name: string,
    readonly reason: string,
  ) {
    super(`model "${name}" cannot be loaded: ${reason}`)
    this.name = 'ModelUnusableError'
  }
}

/** Thrown when llama.cpp refuses a file that passed the checks; carries llama.cpp's own reason. */
export class ModelLoadError extends Error {
  static override readonly name = 'ModelLoadError'
  constructor(name: string, llamaErrors: readonly string[], cause: unknown) {
    const reason = llamaErrors.find((line) => /error loading model:/.test(line)) ?? llamaErrors.at(-1)
    super(`llama.cpp failed to load model "${name}": ${reason ?? (cause as Error).message}`, { cause })
    this.name = 'ModelLoadError'
  }
}

/** Thrown when a task names no model and there is not exactly one it could mean. */
export class ModelRequiredError extends Error {
  static override readonly name = 'ModelRequiredError'
  constructor(candidates: readonly string[]) {
    super(
      candidates.length === 0
        ? 'no model is available on this peer'
        : `name a model: this peer has several (${candidates.join(', ')})`,
    )
    this.name = 'ModelRequiredError'
  }
}

const DEFAULT_CONTEXT_SIZE = 4096

export class ModelManager implements Startable {
  /** Tokens per context asked for (each model's is capped by its training context). */
  readonly contextSize: number
  private readonly loaded = new Map<string, LoadedModel>()
  private readonly loading = new Map<string, Promise<LoadedModel>>()
  private readonly listeners = new Set<() => void>()
  // Scans share the hash cache file; loads share llama.cpp's log (read for failure reasons).
  private readonly scans = new SerialQueue()
  private readonly loads = new SerialQueue()

  constructor(private readonly init: ModelManagerInit) {
    this.contextSize = init.contextSize ?? DEFAULT_CONTEXT_SIZE
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    await Promise.allSettled([...this.loading.values()])
    await Promise.all([...this.loaded.keys()].map((name) => this.unload(name)))
    await this.init.runtime.dispose()
  }

  /** Called after a model is loaded or unloaded (the registry advertises the change). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  loadedNames(): string[] {
    return [...this.loaded.keys()]
  }

  /** Every model file of the models directory, read and checked now; usable ones say whether loaded. */
  async list(): Promise<ModelListing> {
    const scan = await this.scans.run(() =>
      scanModelsDir(this.init.modelsDir, { hashCache: this.init.hashCache, logger: this.init.logger }),
    )
    return {
      models: scan.usable.map((model) => ({ ...model, loaded: this.loaded.has(model.name) })),
      unusable: scan.unusable,
    }
  }

  /** Loads the model (once; a second call while it loads waits for the first). */
  load(name: string, onProgress?: (fraction: number) => void): Promise<LoadedModel> {
    const loaded = this.loaded.get(name)
    if (loaded) return Promise.resolve(loaded)
    let loading = this.loading.get(name)
    if (!loading) {
      loading = this.loads.run(() => this.loadNow(name, onProgress)).finally(() => this.loading.delete(name))
      this.loading.set(name, loading)
    }
    return loading
  }

  /**
   * The model a task asked for, loaded if it was not (`loadMs` is then the time it took, else 0).
   * Without a name: the only loaded model, else the only usable one.
   */
  async acquire(
    name: string | undefined,
    onProgress?: (fraction: number, model: string) => void,
  ): Promise<{ model: LoadedModel; loadMs: number }> {
    const wanted = name ?? (await this.onlyModel())
    const already = this.loaded.get(wanted)
    if (already) return { model: already, loadMs: 0 }
    const model = await this.load(wanted, onProgress && ((fraction) => onProgress(fraction, wanted)))
    return { model, loadMs: model.loadMs }
  }

  /** Unloads the model, stopping tasks that run on it; false when it was not loaded. */
  async unload(name: string): Promise<boolean> {
    await this.loading.get(name)?.catch(() => {})
    const loaded = this.loaded.get(name)
    if (!loaded) return false
    this.loaded.delete(name)
    await loaded.dispose()
    this.init.logger.info({ model: name }, 'model unloaded')
    this.changed()
    return true
  }

  private async onlyModel(): Promise<string> {
    const loaded = this.loadedNames()
    if (loaded.length === 1 && loaded[0] !== undefined) return loaded[0]
    const usable = (await this.list()).models.map((m) => m.name)
    if (loaded.length === 0 && usable.length === 1 && usable[0] !== undefined) return usable[0]
    throw new ModelRequiredError(loaded.length > 0 ? loaded : usable)
  }

  private async loadNow(name: string, onProgress?: (fraction: number) => void): Promise<LoadedModel> {
    const { models, unusable } = await this.list()
    const info = models.find((m) => m.name === name)
    if (!info) {
      const bad = unusable.find((u) => modelName(u.path) === name)
      if (bad) throw new ModelUnusableError(name, bad.reason)
      throw new ModelNotFoundError(
        name,
        models.map((m) => m.name),
      )
    }
    const { runtime, logger } = this.init
    const llama = await runtime.get()
    runtime.takeErrors()
    logger.info({ model: name, path: info.path, size_bytes: info.size_bytes }, 'loading model')
    const startedAt = performance.now()
    let model: Awaited<ReturnType<typeof llama.loadModel>>
    try {
      model = await llama.loadModel({ modelPath: info.path, onLoadProgress: onProgress })
    } catch (err) {
      throw new ModelLoadError(name, runtime.takeErrors(), err)
    }
    const loadMs = Math.round(performance.now() - startedAt)
    const loaded = new LoadedModel({
      info,
      llama,
      model,
      contextSize: Math.min(this.contextSize, model.trainContextSize),
      threads: runtime.threads,
      loadMs,
    })
    this.loaded.set(name, loaded)
    logger.info({ model: name, ms: loadMs, context_size: loaded.contextSize }, 'model loaded')
    this.changed()
    return loaded
  }

  private changed(): void {
    for (const listener of this.listeners) {
      try {
        listener()
      } catch (err) {
        this.init.logger.warn({ err }, 'model change listener failed')
      }
    }
  }
}
