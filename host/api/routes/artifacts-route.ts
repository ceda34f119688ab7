/**
 * Artifacts: POST /api/artifacts imports the request body as it streams in (never buffered whole),
 * GET lists and shows them with their holders, GET /api/artifacts/:cid/content streams the bytes out
 * (checked against the CID per block and the artifact's sha256 and size at the end), and
 * POST .../pin and .../unpin keep or release this peer's copy.
 */
import type { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ArtifactsPort } from '../../artifacts/artifacts-port.ts'
import { API_STATUS } from '../api-status.ts'
import { routes } from '../contract/index.ts'
import { sendError, sendInvalidPayload } from '../error-reply.ts'

export type ArtifactApi = Pick<ArtifactsPort, 'add' | 'read' | 'pin' | 'unpin' | 'show' | 'list'>

export function registerArtifactRoutes(app: FastifyInstance, artifacts: ArtifactApi): void {
  // Scoped so only this route takes a raw stream; every other route keeps JSON and the body limit.
  app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload))
    scope.post(routes.addArtifact.path, async (request, reply) => {
      const query = routes.addArtifact.query.safeParse(request.query)
      if (!query.success) return sendInvalidPayload(reply, 'invalid artifact', query.error)
      const body = request.body as Readable | undefined
      if (body === undefined || body === null || typeof (body as Readable).pipe !== 'function') {
        return sendError(
          reply,
          API_STATUS['invalid/unsupported'],
          'UnsupportedMediaTypeError',
          'send the bytes as application/octet-stream',
        )
      }
      const q = query.data
      return artifacts.add(body, {
        name: q.name,
        mimeType: q.mime_type,
        replication: q.replication,
        profile: q.profile,
        signal: abortOnClose(reply),
      })
    })
  })

  app.get(routes.listArtifacts.path, async () => ({ artifacts: await artifacts.list() }))

  app.get(routes.showArtifact.path, async (request, reply) => {
    const cid = cidParam(request, reply)
    if (cid === null) return reply
    return artifacts.show(cid)
  })

  app.get(routes.artifactContent.path, async (request, reply) => {
    const cid = cidParam(request, reply)
    if (cid === null) return reply
    const signal = abortOnClose(reply)
    const { artifact, bytes } = await artifacts.read(cid, { signal })
    const iterator = bytes[Symbol.asyncIterator]()
    // The first block decides between an error answer (nobody holds it) and a stream.
    const first = await iterator.next()
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(artifact.size),
      'x-ripple-sha256': artifact.sha256,
      'x-ripple-cid': artifact.cid,
    })
    try {
      for (let next = first; !next.done; next = await iterator.next()) {
        if (!res.write(next.value)) await new Promise((resolve) => res.once('drain', resolve))
      }
      res.end()
    } catch (err) {
      request.log.warn({ err, cid }, 'artifact stream failed')
      // Cut, so the client sees a broken transfer rather than a clean end of wrong bytes.
      res.destroy(err as Error)
    }
  })

  app.post(routes.pinArtifact.path, async (request, reply) => {
    const cid = cidParam(request, reply)
    if (cid === null) return reply
    return artifacts.pin(cid, { signal: abortOnClose(reply) })
  })

  app.post(routes.unpinArtifact.path, async (request, reply) => {
    const cid = cidParam(request, reply)
    if (cid === null) return reply
    return artifacts.unpin(cid)
  })
}

/** Aborted when the client goes away before its answer, so a dropped request stops its transfer. */
export function abortOnClose(reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort()
  })
  return controller.signal
}

/** The `:cid` param, or a 400 naming it. */
function cidParam(request: FastifyRequest, reply: FastifyReply): string | null {
  const params = routes.showArtifact.params.safeParse(request.params)
  if (params.success) return params.data.cid
  sendInvalidPayload(reply, 'invalid CID', params.error)
  return null
}
