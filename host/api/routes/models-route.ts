/**
 * The models of this peer: GET /api/models lists the models directory (usable models with their
 * `loaded` flag, unusable files with the reason); POST /api/models/:name/load and /unload change
 * what is in memory. A file that fails the checks made before loading gets a 422 with the reason,
 * and the daemon carries on.
 *
 * A load asked for with `accept: text/event-stream` streams `progress` events ({ fraction }) once
 * llama.cpp starts reading weights, then `loaded` (or `error`). The stream opens at the first
 * progress, so a refused file still gets its 4xx, and a model already loaded a plain JSON answer.
 */
import type { ServerResponse } from 'node:http'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { LoadedModel } from '../../inference/loaded-model.ts'
import type { ModelListing, ModelManager } from '../../inference/model-manager.ts'

export type ModelsView = ModelListing

export interface ModelLoadedView {
  model: string
  file_hash: string
  load_ms: number
  context_size: number
  threads: number
}

export function registerModelsRoute(
  app: FastifyInstance,
  models: Pick<ModelManager, 'list' | 'load' | 'unload'>,
): void {
  app.get('/api/models', async (): Promise<ModelsView> => models.list())

  app.post<{ Params: { name: string } }>('/api/models/:name/load', async (request, reply) => {
    const { name } = request.params
    if (!request.headers.accept?.includes('text/event-stream')) return loadedView(await models.load(name))
    const events = lazyEventStream(reply)
    try {
      const loaded = await models.load(name, (fraction) => events.send('progress', { fraction }))
      if (!events.opened) return loadedView(loaded)
      events.send('loaded', loadedView(loaded))
    } catch (err) {
      if (!events.opened) throw err
      const { name: errorName, message } = err as Error
      events.send('error', { error: { name: errorName, message } })
    }
    events.end()
  })

  app.post<{ Params: { name: string } }>('/api/models/:name/unload', async (request) => ({
    model: request.params.name,
    unloaded: await models.unload(request.params.name),
  }))
}

function loadedView(loaded: LoadedModel): ModelLoadedView {
  return {
    model: loaded.info.name,
    file_hash: loaded.info.sha256,
    load_ms: loaded.loadMs,
    context_size: loaded.contextSize,
    threads: loaded.threads,
  }
}

/** A server-sent event stream on `reply`, opened (the reply hijacked) by its first event. */
export function lazyEventStream(reply: FastifyReply) {
  let stream: ServerResponse | null = null
  return {
    get opened(): boolean {
      return stream !== null
    },
    send(event: string, data: unknown): void {
      if (stream === null) {
        reply.hijack()
        stream = reply.raw
        stream.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      }
      stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    },
    end(): void {
      stream?.end()
    },
  }
}
