import type { FastifyInstance } from 'fastify'
import { type PeersReply, routes } from '../contract/index.ts'

export function registerPeersRoute(app: FastifyInstance, peers: () => Promise<PeersReply>): void {
  app.get(routes.peers.path, peers)
}
