/**
 * POST /api/models/pull `{ source, sha256?, size?, name? }`: fetches a model into the models directory
 * (`hf:owner/repo/file.gguf`, `hf:owner/repo:quant` or an https URL), checks it and advertises it.
 * Asked for with `accept: text/event-stream`, it streams `progress` events (a Progress) and then
 * `pulled` (or `error`); a request that fails before any byte arrives gets
 * its error status (502 for a source that cannot be fetched, 422 for a refused file). A client that
 * goes away stops the download, which the next pull of the same source resumes.
 */
import type { FastifyInstance } from 'fastify'
import type { GgufModel } from '../../inference/gguf-scan.ts'
import type { PullRequest } from '../../inference/model-pull.ts'
import type { ProjectorPull } from '../../inference/projector-pull.ts'
import type { LongOperationOptions } from '../../interface/progress.ts'
import { routes } from '../contract/index.ts'
import { sendInvalidPayload } from '../error-reply.ts'
import { clientGone, lazyEventStream } from './event-stream-reply.ts'

export type ModelPuller = (
  request: PullRequest,
  options: LongOperationOptions,
) => Promise<{ model: GgufModel; projector: ProjectorPull }>

export function registerModelPullRoute(app: FastifyInstance, pull: ModelPuller): void {
  app.post(routes.pullModel.path, async (request, reply) => {
    const body = routes.pullModel.body.safeParse(request.body ?? null)
    if (!body.success) return sendInvalidPayload(reply, 'invalid pull', body.error)
    const signal = clientGone(reply)
    if (!request.headers.accept?.includes('text/event-stream')) return await pull(body.data, { signal })
    const events = lazyEventStream(reply)
    try {
      const pulled = await pull(body.data, {
        signal,
        onProgress: (progress) => events.send('progress', progress),
      })
      if (!events.opened) return pulled
      events.send('pulled', pulled)
    } catch (err) {
      if (!events.opened) throw err
      const { name, message } = err as Error
      events.send('error', { error: { name, message } })
    }
    events.end()
  })
}
