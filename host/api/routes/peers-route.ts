/**
 * GET /api/peers[?page=&limit=]: the peers this one knows, from the record (capabilities) and the news
 * it hears, never by connecting to each; a page at a time (a mesh of a thousand is not one reply), with
 * the count of members and of peers known.
 */
import type { FastifyInstance } from 'fastify'
import { memberCount } from '../../registry/index.ts'
import { type PeersReply, routes } from '../contract/index.ts'
import { sendInvalidPayload } from '../error-reply.ts'

type Listed = Parameters<typeof memberCount>[0][number]

/** Page `page` (from 1) of `limit` peers, in the list's order (self first), with the counts. */
export function peersPage<P extends Listed>(peers: readonly P[], page: number, limit: number) {
  return {
    peers: peers.slice((page - 1) * limit, page * limit),
    members: memberCount(peers),
    total: peers.length,
    page,
    limit,
  }
}

/** `filled`: the page with the capabilities not read here read now (LivePeers.filled). */
export function registerPeersRoute<P extends PeersReply['peers'][number]>(
  app: FastifyInstance,
  peers: () => Promise<Pick<PeersReply, 'warrants'> & { peers: P[] }>,
  filled?: (page: P[]) => Promise<P[]>,
): void {
  const route = routes.peers
  app.get(route.path, async (request, reply) => {
    const query = route.query.safeParse(request.query)
    if (!query.success) return sendInvalidPayload(reply, 'invalid page or limit', query.error)
    const all = await peers()
    const page = peersPage(all.peers, query.data.page, query.data.limit)
    return { ...page, peers: filled ? await filled(page.peers) : page.peers, warrants: all.warrants }
  })
}
