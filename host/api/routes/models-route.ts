/**
 * The models of this peer: GET /api/models lists the models directory (usable models with their
 * `loaded` flag, unusable files with the reason); POST /api/models/:name/load and /unload change
 * what is in memory. A file that fails the checks made before loading gets a 422 with the reason,
 * and the daemon carries on.
 *
 * A load asked for with `accept: text/event-stream` streams `progress` events (a Progress) once
 * llama.cpp starts reading weights, then `loaded` (or `error`). The stream opens at the first
 * progress, so a refused file still gets its 4xx, and a model already loaded a plain JSON answer.
 * A client that goes away stops the load, unless another caller (a task) waits on it too.
 */
import type { FastifyInstance } from 'fastify'
import type { EngineModel } from '../../inference/engine/engine-model.ts'
import type { ModelsPort } from '../../inference/models-port.ts'
import type { LongOperationOptions } from '../../interface/progress.ts'
import type { SplitsPort } from '../../split/splits-port.ts'
import { type ModelLoadedView, type ModelsView, routes } from '../contract/index.ts'
import { clientGone, lazyEventStream } from './event-stream-reply.ts'

export function registerModelsRoute(
  app: FastifyInstance,
  models: Pick<ModelsPort, 'list' | 'load' | 'unload'>,
  splits?: Pick<SplitsPort, 'load' | 'views'>,
): void {
  app.get(
    routes.listModels.path,
    async (): Promise<ModelsView> => ({ ...(await models.list()), splits: splits?.views() ?? [] }),
  )

  app.post(routes.loadModel.path, async (request, reply) => {
    const { name } = routes.loadModel.params.parse(request.params)
    const { split } = routes.loadModel.query.parse(request.query)
    const signal = clientGone(reply)
    const load = (options: LongOperationOptions) =>
      split && splits ? splits.load(name, options) : models.load(name, options)
    if (!request.headers.accept?.includes('text/event-stream')) return loadedView(await load({ signal }))
    const events = lazyEventStream(reply)
    try {
      const loaded = await load({
        signal,
        onProgress: (progress) => events.send('progress', progress),
      })
      if (!events.opened) return loadedView(loaded)
      events.send('loaded', loadedView(loaded))
    } catch (err) {
      if (!events.opened) throw err
      const { name: errorName, message } = err as Error
      events.send('error', { error: { name: errorName, message } })
    }
    events.end()
  })

  app.post(routes.unloadModel.path, async (request) => {
    const { name } = routes.unloadModel.params.parse(request.params)
    return { model: name, unloaded: await models.unload(name) }
  })
}

function loadedView(loaded: EngineModel): ModelLoadedView {
  return {
    model: loaded.info.name,
    file_hash: loaded.info.sha256,
    load_ms: loaded.loadMs,
    context_size: loaded.contextSize,
    threads: loaded.threads,
  }
}
