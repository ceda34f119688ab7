/**
 * Unloads the models idle past their keep-alive (Ollama's `keep_alive`: a request's value holds for
 * its model from then on, up to the peer's own `--keep-alive`). Never one a request runs on, nor one
 * a request touched since it was found idle.
 */
import type { Logger } from '../log/logger.ts'
import type { EngineModel } from './engine/engine-model.ts'
import { type IdleView, idleView, MIN_IDLE_MS, requestKeepAlive } from './keep-alive.ts'
import type { LoadedModels } from './loaded-models.ts'
import type { SharedLoads } from './shared-load.ts'

/** How often loaded models are checked for a keep-alive that ran out. */
const SWEEP_MS = 1_000

export interface IdleSweepInit {
  loaded: LoadedModels
  /** Loads under way: a model is swept only once its own has settled. */
  loading: SharedLoads<EngineModel>
  /** The peer's keep-alive (`--keep-alive`); default 5 min, KEEP_FOREVER: never unloaded. */
  keepAliveMs?: number
  logger: Logger
  /** Told after a model was unloaded. */
  changed: () => void
}

export class IdleSweep {
  readonly #init: IdleSweepInit
  /** Keep-alives requests set per model. */
  readonly #keepAlives = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined

  constructor(init: IdleSweepInit) {
    this.#init = init
  }

  start(): void {
    this.#timer = setInterval(() => void this.sweep(), SWEEP_MS)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
  }

  /** A request's keep-alive: the model's from now on. */
  requested(name: string, keepAliveMs: number): void {
    this.#keepAlives.set(name, keepAliveMs)
  }

  /** The keep-alive of a model: the last a request set, at most the peer's (`--keep-alive`), else the peer's. */
  keepAliveOf(name: string): number {
    return requestKeepAlive(this.#keepAlives.get(name), this.#init.keepAliveMs)
  }

  /** Whether a model is loaded, and since when it is idle and when it unloads for it. */
  idleOf(name: string): IdleView {
    return idleView(this.#init.loaded.get(name) ?? null, this.keepAliveOf(name))
  }

  /** Unloads every model idle past its keep-alive; answers the models unloaded. */
  async sweep(now = Date.now()): Promise<string[]> {
    const { loaded, loading, logger, changed } = this.#init
    const unloaded: string[] = []
    for (const [name, model] of loaded.entries()) {
      const at = this.idleOf(name).unloads_at
      if (at === null || at > now) continue
      const seen = model.lastUsedAt
      await loading.settled(name)
      // Checked again with nothing awaited before the model leaves the map: no request starts on it after.
      if (loaded.get(name) !== model || model.busy > 0 || model.lastUsedAt !== seen) continue
      loaded.delete(name)
      logger.info(
        { model: name, idle_ms: now - seen, keep_alive_ms: this.keepAliveOf(name) },
        'unloading an idle model (its keep-alive ran out)',
      )
      await model.dispose()
      changed()
      unloaded.push(name)
    }
    return unloaded
  }

  /** A model's last request ended: a keep-alive shorter than the sweep's period is kept to the moment. */
  soon(name: string): void {
    const wait = Math.max(this.keepAliveOf(name), MIN_IDLE_MS)
    if (wait < SWEEP_MS) setTimeout(() => void this.sweep(), wait + 20).unref()
  }
}
