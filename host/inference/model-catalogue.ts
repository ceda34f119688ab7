/**
 * What the models directory holds: every model file, read and checked now, usable or not and why. A
 * quarantined file is unusable, with the reason it was quarantined. The catalogue is the only reader
 * of the directory (the registry's capability scans go through the manager's `list`), so two scans
 * never race on the hash cache.
 */
import type { Logger } from '../log/logger.ts'
import { SerialQueue } from '../runtime/serial-queue.ts'
import type { FileHashCache } from './file-hash-cache.ts'
import { modelName, scanModelsDir } from './gguf-scan.ts'
import type { IdleView } from './keep-alive.ts'
import { ModelNotFoundError, ModelUnusableError } from './model-errors.ts'
import type { ModelQuarantine } from './model-quarantine.ts'
import type { ListedModel, ModelListing } from './model-types.ts'

export interface CatalogueInit {
  modelsDir: string
  hashCache: FileHashCache
  quarantine: ModelQuarantine
  logger: Logger
  /** Whether a model is loaded and idle, shown beside its file. */
  idleOf: (name: string) => IdleView
}

export class ModelCatalogue {
  readonly #init: CatalogueInit
  // Scans share the hash cache file.
  readonly #scans = new SerialQueue()

  constructor(init: CatalogueInit) {
    this.#init = init
  }

  async list(): Promise<ModelListing> {
    const { modelsDir, hashCache, logger, quarantine, idleOf } = this.#init
    const scan = await this.#scans.run(() => scanModelsDir(modelsDir, { hashCache, logger }))
    const models: ListedModel[] = []
    const unusable = [...scan.unusable]
    for (const model of scan.usable) {
      const quarantined = quarantine.get(model.sha256)
      if (quarantined) unusable.push({ path: model.path, reason: `quarantined: ${quarantined.reason}` })
      else models.push({ ...model, ...idleOf(model.name) })
    }
    return { models, unusable }
  }

  /** The usable model of that name, read and checked now; else why there is none. */
  async usable(name: string): Promise<ListedModel> {
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
}
