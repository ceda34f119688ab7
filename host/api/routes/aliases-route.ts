/**
 * Model aliases: GET /api/models/aliases lists those in force with the model each runs now; POST sets
 * one (on this peer, or `mesh` for every peer: an admin's); POST .../remove removes one.
 */
import type { FastifyInstance } from 'fastify'
import type { AliasesPort } from '../../requests/alias-service.ts'
import { resolveModel } from '../../requests/model-aliases.ts'
import type { PeerModel } from '../../requests/peer-models.ts'
import { routes } from '../contract/index.ts'
import { sendInvalidPayload } from '../error-reply.ts'

export function registerAliasRoutes(
  app: FastifyInstance,
  aliases: AliasesPort,
  models: () => Promise<PeerModel[]>,
): void {
  app.get(routes.listAliases.path, async () => {
    const [all, served] = await Promise.all([aliases.list(), models()])
    return {
      aliases: all.map((a) => ({ ...a, resolves_to: resolveModel(a.name, [a], served).model })),
    }
  })

  app.post(routes.setAlias.path, async (request, reply) => {
    const body = routes.setAlias.body.safeParse(request.body ?? null)
    if (!body.success) return sendInvalidPayload(reply, 'invalid alias', body.error)
    const { mesh, ...alias } = body.data
    const set = await aliases.set(alias, mesh ? 'mesh' : 'peer')
    return { ...set, resolves_to: resolveModel(set.name, [set], await models()).model }
  })

  app.post(routes.removeAlias.path, async (request, reply) => {
    const body = routes.removeAlias.body.safeParse(request.body ?? null)
    if (!body.success) return sendInvalidPayload(reply, 'invalid alias', body.error)
    const scope = body.data.mesh ? 'mesh' : 'peer'
    await aliases.remove(body.data.name, scope)
    return { removed: body.data.name, scope }
  })
}
